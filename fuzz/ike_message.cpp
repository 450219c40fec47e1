// libFuzzer harness for the IKEv2 message codec: header and outer chain, the SK/SKF payloads with a
// fixed AES-GCM-16 key, the inner chain, the rule table and describe(). A mutated ICV never
// verifies under the fixed key, so an SK body that does not open is sealed as plaintext and opened
// again: that reaches the inner-chain parser and checks the seal/open round trip. Invariants (a
// violation traps): what parses rebuilds, and the rebuilt octets parse to the same octets again.
#include <cstdint>
#include <cstdlib>

#include "crypto/random.hpp"
#include "crypto/sk_cipher.hpp"
#include "ike/wire/build.hpp"
#include "ike/wire/dump.hpp"
#include "ike/wire/encrypted.hpp"
#include "ike/wire/parse.hpp"
#include "ike/wire/rules.hpp"

using namespace ikemesh;
using namespace ikemesh::wire;

static void check(bool ok) {
    if (!ok) __builtin_trap();
}

static Bytes rebuild(const Message& m) {
    MessageBuilder b(m.header);
    for (const Payload& p : m.payloads)
        b.add(p);
    auto out = b.finish();
    check(out.ok());
    return std::move(*out);
}

static void inner(const Header& h, PayloadType first, ByteView chain) {
    PayloadList list;
    if (!parse_payloads(first, chain, list)) return;
    (void)check_payload_rules(h.exchange, h.is_response(), list);
    (void)describe(list);
    ChainBuilder b;
    for (const Payload& p : list)
        b.add(p);
    auto again = b.finish();
    check(again.ok());
    check(parse_payloads(b.first_type(), *again).ok());
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const crypto::SkCipher cipher =
        *crypto::SkCipher::create({crypto::EncrAlg::aes_gcm_16, 128}, crypto::IntegAlg::none,
                                  crypto::SecretBytes(Bytes(20, 0x42)), crypto::SecretBytes{});
    static crypto::SystemRandom rng;
    const ByteView datagram(data, size);
    Message m;
    if (!parse_message(datagram, m)) return 0;
    (void)check_outer_payloads(m);
    (void)describe(m);
    (void)check_payload_rules(m.header.exchange, m.header.is_response(), m.payloads);

    const Bytes once = rebuild(m);
    Message again;
    check(parse_message(once, again).ok());
    check(rebuild(again) == once);

    Bytes plaintext;
    if (const auto* sk = std::get_if<SkPayload>(&m.payloads.back())) {
        if (auto opened = open_sk(datagram, m, cipher, plaintext)) {
            inner(m.header, opened->first, opened->chain);
            return 0;
        }
        Bytes sealed;
        check(seal_sk(m.header, sk->inner_first, sk->body, cipher, rng, sealed).ok());
        Message resealed;
        check(parse_message(sealed, resealed).ok());
        auto opened = open_sk(sealed, resealed, cipher, plaintext);
        check(opened.ok() && std::equal(opened->chain.begin(), opened->chain.end(),
                                        sk->body.begin(), sk->body.end()));
        inner(m.header, opened->first, opened->chain);
    } else if (const auto* skf = std::get_if<SkfPayload>(&m.payloads.back())) {
        if (auto opened = open_skf(datagram, m, cipher, plaintext)) {
            if (opened->number == 1 && opened->total == 1)
                inner(m.header, opened->first, opened->data);
        } else if (skf->fragment_number == 1 && skf->total_fragments == 1) {
            inner(m.header, skf->inner_first, skf->body);
        }
    }
    return 0;
}
