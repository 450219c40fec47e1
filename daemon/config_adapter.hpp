// Where config/ meets daemon/: loading the configuration directory into a RuntimeConfig, and
// describing what a new configuration would change compared with the running one.
//
// Loading collects every error (config::load_config reports all of them with file, line and key)
// and logs warnings; the result carries its source config::Config so a later reload can diff
// against it (config/diff.hpp decides which peers are added, removed, changed or unchanged and
// which settings need a restart). The JSON built here is what `ikectl reload` and `ikectl
// check-config` print.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/result.hpp"
#include "config/config.hpp"
#include "config/diff.hpp"
#include "daemon/options.hpp"

namespace ikemesh::daemon {

using nlohmann::json;

// The daemon's and the engine's slices of a loaded configuration.
RuntimeConfig to_runtime_config(std::shared_ptr<const config::Config> config);

// load_config + to_runtime_config. Warnings go to the "config" logger; errors come back as
// Errc::config_invalid (or io_error) with every problem on its own line of the detail.
Result<RuntimeConfig> load_runtime_config(const std::filesystem::path& dir);

// {"added":[...],"removed":[...],"changed":[...],"unchanged":N,"local_changed":bool,
//  "settings_changed":bool,"logging_changed":bool,"restart_required":[...]}
json config_change_json(const config::ConfigDiff& diff);

}  // namespace ikemesh::daemon
