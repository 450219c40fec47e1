// Cost of the IKEv2 codec on the messages a mesh node handles most: the inner chain of an IKE_AUTH
// request (IDi, AUTH, N(INITIAL_CONTACT), N(USE_TRANSPORT_MODE), SA with one ESP proposal, TSi,
// TSr) and a strongSwan-like IKE_SA_INIT request with its default proposals (49 transforms).
// Target (issue 2): parsing an IKE_AUTH costs well under 1% of an X25519 exchange (~55 us), i.e.
// well under 550 ns. Run: build/tests/bench/bench_codec; figures in docs/performance.md.
#include <benchmark/benchmark.h>

#include <string_view>

#include "ike/wire/build.hpp"
#include "ike/wire/parse.hpp"

using namespace ikemesh;
using namespace ikemesh::wire;

namespace {

const Bytes kAuthData(32, 0xa5);
const Bytes kKeData(32, 0x4b);
const Bytes kNonceData(32, 0x4e);
const Bytes kNatHash(20, 0x7a);
const Bytes kSpi{0xc0, 0xff, 0xee, 0x01};
const Bytes kHashAlgs{0, 2, 0, 3, 0, 4, 0, 5};
const Bytes kVendorId(16, 0x88);
constexpr std::string_view kIdentity = "node-17.mesh.example.net";

TsiPayload host_ts(const char* address) {
    TsiPayload ts;
    TrafficSelector& s = ts.selectors.emplace_back();
    s.start_address = *IpAddress::parse(address);
    s.end_address = s.start_address;
    return ts;
}

Bytes ike_auth_chain() {
    SaPayload sa;
    Proposal& p = sa.proposals.emplace_back();
    p.protocol = ProtocolId::esp;
    p.spi = kSpi;
    p.transforms.push_back({TransformType::encr, 20, 128});
    p.transforms.push_back({TransformType::esn, 0, std::nullopt});
    TsiPayload tsi = host_ts("192.0.2.1");
    TsrPayload tsr;
    tsr.selectors = host_ts("192.0.2.2").selectors;
    ByteView id{reinterpret_cast<const uint8_t*>(kIdentity.data()), kIdentity.size()};
    ChainBuilder b;
    b.add(IdiPayload{IdType::fqdn, id, {}})
        .add(AuthPayload{AuthMethod::shared_key_mic, kAuthData})
        .add(NotifyPayload{ProtocolId::none, {}, NotifyType::initial_contact, {}})
        .add(NotifyPayload{ProtocolId::none, {}, NotifyType::use_transport_mode, {}})
        .add(sa)
        .add(tsi)
        .add(tsr);
    return *b.finish();
}

// strongSwan 5.9's default IKE proposals: one with ENCR/INTEG/PRF/KE lists, one AEAD.
Bytes strongswan_like_ike_sa_init() {
    SaPayload sa;
    Proposal& p1 = sa.proposals.emplace_back();
    for (uint16_t bits : {128, 192, 256})
        p1.transforms.push_back({TransformType::encr, 12, bits});
    for (uint16_t bits : {128, 192, 256})
        p1.transforms.push_back({TransformType::encr, 23, bits});
    for (uint16_t id : {12, 13, 14, 5, 2})
        p1.transforms.push_back({TransformType::integ, id, {}});
    for (uint16_t id : {5, 6, 7, 4, 8, 2})
        p1.transforms.push_back({TransformType::prf, id, {}});
    const uint16_t groups[] = {31, 19, 20, 21, 28, 29, 30, 32, 15, 16, 14};
    for (uint16_t g : groups)
        p1.transforms.push_back({TransformType::ke, g, {}});
    Proposal& p2 = sa.proposals.emplace_back();
    p2.number = 2;
    for (uint16_t bits : {128, 192, 256})
        p2.transforms.push_back({TransformType::encr, 20, bits});
    p2.transforms.push_back({TransformType::encr, 28, std::nullopt});
    for (uint16_t id : {5, 6, 7, 4, 8, 2})
        p2.transforms.push_back({TransformType::prf, id, {}});
    for (uint16_t g : groups)
        p2.transforms.push_back({TransformType::ke, g, {}});

    Header h;
    h.spi_i = IkeSpi{0x1122334455667788};
    h.exchange = ExchangeType::ike_sa_init;
    h.set(HeaderFlag::initiator);
    MessageBuilder b(h);
    b.add(sa)
        .add(KePayload{crypto::DhGroup::curve25519, kKeData})
        .add(NoncePayload{kNonceData})
        .add(NotifyPayload{ProtocolId::none, {}, NotifyType::nat_detection_source_ip, kNatHash})
        .add(
            NotifyPayload{ProtocolId::none, {}, NotifyType::nat_detection_destination_ip, kNatHash})
        .add(NotifyPayload{ProtocolId::none, {}, NotifyType::ikev2_fragmentation_supported, {}})
        .add(NotifyPayload{ProtocolId::none, {}, NotifyType::signature_hash_algorithms, kHashAlgs})
        .add(VendorIdPayload{kVendorId});
    return *b.finish();
}

void BM_ParseIkeAuthChain(benchmark::State& state) {
    const Bytes chain = ike_auth_chain();
    PayloadList list;
    for (auto _ : state) {
        Status s = parse_payloads(PayloadType::idi, chain, list);
        benchmark::DoNotOptimize(s);
        benchmark::DoNotOptimize(list.data());
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * chain.size()));
}
BENCHMARK(BM_ParseIkeAuthChain);

void BM_SerializeIkeAuthChain(benchmark::State& state) {
    const Bytes chain = ike_auth_chain();
    PayloadList list;
    if (!parse_payloads(PayloadType::idi, chain, list)) state.SkipWithError("parse failed");
    Bytes buffer;
    for (auto _ : state) {
        ChainBuilder b(std::move(buffer));
        for (const Payload& p : list)
            b.add(p);
        buffer = *b.finish();
        benchmark::DoNotOptimize(buffer.data());
    }
}
BENCHMARK(BM_SerializeIkeAuthChain);

void BM_ParseAndSerializeIkeAuthChain(benchmark::State& state) {
    const Bytes chain = ike_auth_chain();
    PayloadList list;
    Bytes buffer;
    for (auto _ : state) {
        Status s = parse_payloads(PayloadType::idi, chain, list);
        benchmark::DoNotOptimize(s);
        ChainBuilder b(std::move(buffer));
        for (const Payload& p : list)
            b.add(p);
        buffer = *b.finish();
        benchmark::DoNotOptimize(buffer.data());
    }
}
BENCHMARK(BM_ParseAndSerializeIkeAuthChain);

void BM_ParseStrongswanIkeSaInit(benchmark::State& state) {
    const Bytes datagram = strongswan_like_ike_sa_init();
    Message message;
    for (auto _ : state) {
        Status s = parse_message(datagram, message);
        benchmark::DoNotOptimize(s);
        benchmark::DoNotOptimize(message.payloads.data());
    }
    state.counters["bytes"] = static_cast<double>(datagram.size());
}
BENCHMARK(BM_ParseStrongswanIkeSaInit);

// The convenience form that returns a fresh Message each time (moves the small vectors).
void BM_ParseStrongswanIkeSaInitByValue(benchmark::State& state) {
    const Bytes datagram = strongswan_like_ike_sa_init();
    for (auto _ : state) {
        auto m = parse_message(datagram);
        benchmark::DoNotOptimize(m);
    }
}
BENCHMARK(BM_ParseStrongswanIkeSaInitByValue);

}  // namespace

BENCHMARK_MAIN();
