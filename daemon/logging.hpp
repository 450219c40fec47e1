// Logging set-up for ikemeshd: one spdlog logger per subsystem, all writing to one sink, which is
// the systemd journal when running under systemd and stderr otherwise.
//
// Loggers are registered with spdlog under their subsystem names ("daemon", "ike", "kernel",
// "config", "control"), so a layer that logs can fetch its own by name. Levels come from the
// config (`log_level` plus per-subsystem overrides) and change on reload. The engine logs its SA
// events itself through the "ike" logger, each line starting with the peer and the SPIs; nothing
// that reaches a logger here carries key material.
#pragma once

#include <spdlog/spdlog.h>

#include <array>
#include <string>
#include <string_view>

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

// Creates (or recreates) the subsystem loggers with one shared sink. Levels start at info.
void init_logging(LogTarget target);
// Validates every level and subsystem name, then applies them; on error nothing changes.
Status apply_log_options(const LogOptions& options);
// Checks without applying (for --check and reload validation).
Status validate_log_options(const LogOptions& options);

// The logger of a subsystem; init_logging must have run (a null sink otherwise).
spdlog::logger& log(Subsystem s);

}  // namespace ikemesh::daemon
