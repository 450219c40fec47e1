#include "config/diff.hpp"

namespace ikemesh::config {

bool ConfigDiff::empty() const {
    return added.empty() && removed.empty() && changed.empty() && !local_changed &&
           !settings_changed && !logging_changed && restart_required.empty();
}

ConfigDiff diff(const Config& old_config, const Config& new_config) {
    ConfigDiff d;
    d.local_changed = !(old_config.local == new_config.local);
    d.settings_changed = !(old_config.engine == new_config.engine);
    const DaemonConfig& a = old_config.daemon;
    const DaemonConfig& b = new_config.daemon;
    d.logging_changed = a.log_level != b.log_level || a.log_levels != b.log_levels;
    const bool restart[] = {
        a.control_socket != b.control_socket,
        a.control_group != b.control_group,
        a.kernel != b.kernel,
        a.listen != b.listen,
        a.port != b.port,
        a.port_natt != b.port_natt,
        old_config.metrics.listen != new_config.metrics.listen,
    };
    static_assert(std::size(restart) == kRestartKeys.size());
    for (size_t i = 0; i < kRestartKeys.size(); ++i) {
        if (restart[i]) d.restart_required.emplace_back(kRestartKeys[i]);
    }

    // Both peer lists are sorted by name: one merge pass.
    const auto& olds = old_config.peers;
    const auto& news = new_config.peers;
    size_t i = 0, j = 0;
    while (i < olds.size() || j < news.size()) {
        if (j == news.size() || (i < olds.size() && olds[i].name < news[j].name)) {
            d.removed.push_back(olds[i++].name);
        } else if (i == olds.size() || news[j].name < olds[i].name) {
            d.added.push_back(news[j++].name);
        } else {
            bool same = !d.local_changed && olds[i] == news[j];
            (same ? d.unchanged : d.changed).push_back(news[j].name);
            ++i;
            ++j;
        }
    }
    return d;
}

}  // namespace ikemesh::config
