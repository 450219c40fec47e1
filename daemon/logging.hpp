// Logging set-up for ikemeshd: one spdlog logger per subsystem, all writing to one sink, which is
// the systemd journal when running under systemd and stderr otherwise.
//
// Loggers are registered with spdlog under their subsystem names ("daemon", "ike", "kernel",
// "config", "control"), so a layer that logs can fetch its own by name. Levels come from the
// config (`log_level` plus per-subsystem overrides) and change on reload. The engine logs its SA
// events itself through the "ike" logger, each line starting with the peer and the SPIs; nothing
// that reaches a logger here carries key material. In the journal every line also carries fields
// of its own (journal_fields below): `journalctl -u ikemeshd IKEMESH_PEER=node2` shows one peer.
#pragma once

#include <spdlog/spdlog.h>

#include <array>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.hpp"
#include "daemon/options.hpp"

namespace ikemesh::daemon {

enum class Subsystem { daemon, ike, kernel, config, control };
inline constexpr std::array kAllSubsystems{Subsystem::daemon, Subsystem::ike, Subsystem::kernel,
                                           Subsystem::config, Subsystem::control};
const char* subsystem_name(Subsystem s);

// "trace", "debug", "info", "warn" (or "warning"), "error", "critical", "off".
Result<spdlog::level::level_enum> parse_log_level(std::string_view name);

// True when stderr goes to the journal or the process was started by systemd: systemd sets
// JOURNAL_STREAM for units whose output goes to the journal and INVOCATION_ID for every unit.
bool running_under_systemd(const char* journal_stream, const char* invocation_id);

enum class LogTarget { stderr_text, journal };

// The journal fields of one line besides MESSAGE and PRIORITY: IKEMESH_SUBSYSTEM always; for a
// line that starts with the engine's SA prefix "PEER[SPI_I:SPI_R] " also IKEMESH_PEER,
// IKEMESH_IKE_SPI_I and IKEMESH_IKE_SPI_R; for an SA event line, whose prefix is followed by
// "EVENT SPI_IN/SPI_OUT", also IKEMESH_EVENT, IKEMESH_CHILD_SPI_IN and IKEMESH_CHILD_SPI_OUT.
using JournalFields = std::vector<std::pair<std::string, std::string>>;
JournalFields journal_fields(std::string_view subsystem, std::string_view message);

// Creates (or recreates) the subsystem loggers with one shared sink. Levels start at info.
void init_logging(LogTarget target);
// Validates every level and subsystem name, then applies them; on error nothing changes.
Status apply_log_options(const LogOptions& options);
// Checks without applying (for --check and reload validation).
Status validate_log_options(const LogOptions& options);

// The logger of a subsystem; init_logging must have run (a null sink otherwise).
spdlog::logger& log(Subsystem s);

}  // namespace ikemesh::daemon
