#include "ike/engine_config.hpp"

#include "crypto/certificate.hpp"
#include "crypto/signature.hpp"

namespace ikemesh::ike {
namespace {

// Secrets compare by content (constant time); two missing PSKs are equal.
bool same_secret(const std::shared_ptr<const crypto::SecretBytes>& a,
                 const std::shared_ptr<const crypto::SecretBytes>& b) {
    if (a == b) return true;
    if (!a || !b) return false;
    return a->equals(*b);
}

// Key material loaded twice from the same files is different objects with equal content, so
// comparisons look through the pointers: a private key by its public half, a certificate by its
// DER, trust anchors by the DER list kept beside the store.
template <typename T, typename Same>
bool same_object(const std::shared_ptr<const T>& a, const std::shared_ptr<const T>& b, Same same) {
    if (a == b) return true;
    if (!a || !b) return false;
    return same(*a, *b);
}

}  // namespace

bool Identity::operator==(const Identity& o) const {
    if (kind != o.kind) return false;
    if (data == o.data) return true;
    return kind == IdKind::der_asn1_dn && crypto::same_distinguished_name(data, o.data);
}

bool PeerConfig::operator==(const PeerConfig& o) const {
    return name == o.name && address == o.address && addresses == o.addresses && port == o.port &&
           id == o.id && auth == o.auth && same_secret(psk, o.psk) && ike == o.ike &&
           esp == o.esp && start == o.start && dpd_delay == o.dpd_delay &&
           ike_lifetime == o.ike_lifetime && child_lifetime == o.child_lifetime &&
           rekey_margin == o.rekey_margin && rekey_jitter == o.rekey_jitter &&
           child_limits == o.child_limits && replay_window == o.replay_window &&
           bypass == o.bypass && traffic == o.traffic && childless == o.childless &&
           natt_keepalive == o.natt_keepalive;
}

bool LocalConfig::operator==(const LocalConfig& o) const {
    return id == o.id && auth == o.auth && addresses == o.addresses &&
           same_object(key, o.key,
                       [](const crypto::PrivateKey& a, const crypto::PrivateKey& b) {
                           return a.type() == b.type() && a.public_key() == b.public_key();
                       }) &&
           same_object(
               cert, o.cert,
               [](const crypto::Certificate& a, const crypto::Certificate& b) { return a == b; }) &&
           (ca == nullptr) == (o.ca == nullptr) && ca_certificates == o.ca_certificates;
}

}  // namespace ikemesh::ike
