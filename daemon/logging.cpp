#include "daemon/logging.hpp"

#include <spdlog/sinks/null_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/sinks/systemd_sink.h>

#include <memory>

namespace ikemesh::daemon {
namespace {

std::shared_ptr<spdlog::logger>& slot(Subsystem s) {
    static std::array<std::shared_ptr<spdlog::logger>, kAllSubsystems.size()> loggers;
    return loggers[static_cast<size_t>(s)];
}

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

void init_logging(LogTarget target) {
    spdlog::sink_ptr sink;
    if (target == LogTarget::journal) {
        // The identifier is the program, the subsystem goes into the message: `journalctl -t
        // ikemeshd` shows everything, and the priority field carries the level.
        sink = std::make_shared<spdlog::sinks::systemd_sink_mt>("ikemeshd", true);
        sink->set_pattern("[%n] %v");
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
