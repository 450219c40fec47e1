#include "daemon/logging.hpp"

#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <sys/uio.h>
#include <syslog.h>
#include <systemd/sd-journal.h>

#include <memory>
#include <mutex>

namespace ikemesh::daemon {
namespace {

std::shared_ptr<spdlog::logger>& slot(Subsystem s) {
    static std::array<std::shared_ptr<spdlog::logger>, kAllSubsystems.size()> loggers;
    return loggers[static_cast<size_t>(s)];
}

bool is_hex(std::string_view s, size_t digits) {
    if (s.size() != digits) return false;
    for (char c : s) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    }
    return true;
}

int syslog_priority(spdlog::level::level_enum level) {
    switch (level) {
        case spdlog::level::trace:
        case spdlog::level::debug:
            return LOG_DEBUG;
        case spdlog::level::info:
            return LOG_INFO;
        case spdlog::level::warn:
            return LOG_WARNING;
        case spdlog::level::err:
            return LOG_ERR;
        case spdlog::level::critical:
            return LOG_CRIT;
        default:
            return LOG_INFO;
    }
}

// Native journal records: MESSAGE ("[subsystem] text", as before), PRIORITY from the level,
// SYSLOG_IDENTIFIER ikemeshd, and journal_fields() of the line.
class JournalSink final : public spdlog::sinks::base_sink<std::mutex> {
  protected:
    void sink_it_(const spdlog::details::log_msg& msg) override {
        std::string_view logger(msg.logger_name.data(), msg.logger_name.size());
        std::string_view text(msg.payload.data(), msg.payload.size());
        std::vector<std::string> fields;
        fields.reserve(10);
        fields.push_back("MESSAGE=[" + std::string(logger) + "] " + std::string(text));
        fields.push_back("PRIORITY=" + std::to_string(syslog_priority(msg.level)));
        fields.emplace_back("SYSLOG_IDENTIFIER=ikemeshd");
        for (auto& [key, value] : journal_fields(logger, text))
            fields.push_back(key + "=" + value);
        std::vector<iovec> iov;
        iov.reserve(fields.size());
        for (auto& f : fields)
            iov.push_back(iovec{f.data(), f.size()});
        // Nothing to do if the journal is gone: logging must never stop the daemon.
        (void)sd_journal_sendv(iov.data(), static_cast<int>(iov.size()));
    }
    void flush_() override {}
};

bool known_subsystem(std::string_view name) {
    for (auto s : kAllSubsystems) {
        if (name == subsystem_name(s)) return true;
    }
    return false;
}

}  // namespace

const char* subsystem_name(Subsystem s) {
    switch (s) {
        case Subsystem::daemon:
            return "daemon";
        case Subsystem::ike:
            return "ike";
        case Subsystem::kernel:
            return "kernel";
        case Subsystem::config:
            return "config";
        case Subsystem::control:
            return "control";
    }
    return "unknown";
}

Result<spdlog::level::level_enum> parse_log_level(std::string_view name) {
    using spdlog::level::level_enum;
    if (name == "trace") return level_enum::trace;
    if (name == "debug") return level_enum::debug;
    if (name == "info") return level_enum::info;
    if (name == "warn" || name == "warning") return level_enum::warn;
    if (name == "error") return level_enum::err;
    if (name == "critical") return level_enum::critical;
    if (name == "off") return level_enum::off;
    return Error{Errc::config_invalid, "unknown log level '" + std::string(name) +
                                           "' (trace, debug, info, warn, error, critical, off)"};
}

bool running_under_systemd(const char* journal_stream, const char* invocation_id) {
    auto set = [](const char* v) { return v != nullptr && *v != '\0'; };
    return set(journal_stream) || set(invocation_id);
}

JournalFields journal_fields(std::string_view subsystem, std::string_view message) {
    JournalFields fields{{"IKEMESH_SUBSYSTEM", std::string(subsystem)}};
    // "PEER[0123456789abcdef:0123456789abcdef] REST"
    size_t open = message.find('[');
    if (open == 0 || open == std::string_view::npos || open + 36 > message.size()) return fields;
    std::string_view peer = message.substr(0, open);
    if (peer.find(' ') != std::string_view::npos) return fields;
    std::string_view spi_i = message.substr(open + 1, 16);
    std::string_view spi_r = message.substr(open + 18, 16);
    if (message[open + 17] != ':' || message.substr(open + 34, 2) != "] " || !is_hex(spi_i, 16) ||
        !is_hex(spi_r, 16)) {
        return fields;
    }
    fields.emplace_back("IKEMESH_PEER", std::string(peer));
    fields.emplace_back("IKEMESH_IKE_SPI_I", std::string(spi_i));
    fields.emplace_back("IKEMESH_IKE_SPI_R", std::string(spi_r));
    // "EVENT 01234567/89abcdef[: reason]"
    std::string_view rest = message.substr(open + 36);
    size_t space = rest.find(' ');
    if (space == 0 || space == std::string_view::npos || space + 18 > rest.size()) return fields;
    std::string_view event = rest.substr(0, space);
    std::string_view in = rest.substr(space + 1, 8);
    std::string_view out = rest.substr(space + 10, 8);
    bool end_ok = space + 18 == rest.size() || rest[space + 18] == ':';
    if (rest[space + 9] != '/' || !is_hex(in, 8) || !is_hex(out, 8) || !end_ok) return fields;
    fields.emplace_back("IKEMESH_EVENT", std::string(event));
    fields.emplace_back("IKEMESH_CHILD_SPI_IN", std::string(in));
    fields.emplace_back("IKEMESH_CHILD_SPI_OUT", std::string(out));
    return fields;
}

void init_logging(LogTarget target) {
    spdlog::sink_ptr sink;
    if (target == LogTarget::journal) {
        // The identifier is the program, the subsystem goes into the message and a field:
        // `journalctl -t ikemeshd` shows everything, and the priority field carries the level.
        sink = std::make_shared<JournalSink>();
    } else {
        sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
        sink->set_pattern("%Y-%m-%d %H:%M:%S.%e %-5l [%n] %v");
    }
    for (auto s : kAllSubsystems) {
        spdlog::drop(subsystem_name(s));
        auto logger = std::make_shared<spdlog::logger>(subsystem_name(s), sink);
        logger->set_level(spdlog::level::info);
        logger->flush_on(spdlog::level::warn);
        spdlog::register_logger(logger);
        slot(s) = std::move(logger);
    }
}

Status validate_log_options(const LogOptions& options) {
    if (auto level = parse_log_level(options.level); !level) return level.take_error();
    for (const auto& [name, level] : options.subsystems) {
        if (!known_subsystem(name)) {
            return Error{Errc::config_invalid, "unknown log subsystem '" + name +
                                                   "' (daemon, ike, kernel, config, control)"};
        }
        if (auto parsed = parse_log_level(level); !parsed) return parsed.take_error();
    }
    return {};
}

Status apply_log_options(const LogOptions& options) {
    if (auto ok = validate_log_options(options); !ok) return ok;
    auto base = *parse_log_level(options.level);
    for (auto s : kAllSubsystems) {
        auto level = base;
        if (auto it = options.subsystems.find(subsystem_name(s)); it != options.subsystems.end()) {
            level = *parse_log_level(it->second);
        }
        log(s).set_level(level);
    }
    return {};
}

spdlog::logger& log(Subsystem s) {
    auto& logger = slot(s);
    if (!logger) {
        logger = std::make_shared<spdlog::logger>(subsystem_name(s),
                                                  std::make_shared<spdlog::sinks::null_sink_mt>());
    }
    return *logger;
}

}  // namespace ikemesh::daemon
