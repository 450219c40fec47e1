#include "ike/config.hpp"

namespace ikemesh::ike {
namespace {

// Secrets compare by content (constant time); two missing PSKs are equal.
bool same_secret(const std::shared_ptr<const crypto::SecretBytes>& a,
                 const std::shared_ptr<const crypto::SecretBytes>& b) {
    if (a == b) return true;
    if (!a || !b) return false;
    return a->equals(*b);
}

}  // namespace

bool PeerConfig::operator==(const PeerConfig& o) const {
    return name == o.name && address == o.address && port == o.port && id == o.id &&
           auth == o.auth && same_secret(psk, o.psk) && ike == o.ike && esp == o.esp &&
           start == o.start && dpd_delay == o.dpd_delay && ike_lifetime == o.ike_lifetime &&
           child_lifetime == o.child_lifetime && rekey_margin == o.rekey_margin &&
           rekey_jitter == o.rekey_jitter && child_limits == o.child_limits &&
           replay_window == o.replay_window && bypass == o.bypass && traffic == o.traffic &&
           childless == o.childless;
}

}  // namespace ikemesh::ike
