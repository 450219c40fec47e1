// Serialising the payload structs of payloads.hpp into IKEv2 octets.
//
// The builders alone write Next Payload fields, payload/proposal/transform/selector lengths, counts
// and the header Length, so no caller can get them inconsistent. MessageBuilder produces a whole
// datagram (header + chain, e.g. IKE_SA_INIT); ChainBuilder produces a bare payload chain, the
// plaintext that seal_sk()/seal_skf() (encrypted.hpp) protect. Both write into a buffer the caller
// may hand in, so a busy responder reuses the same storage for every message. Builders do not judge
// content (rules.hpp does); they only refuse what cannot be encoded (a payload over 65535 octets,
// more than 255 transforms or selectors, an address of the wrong family for its selector type, a
// payload after SK/SKF), reported by finish().
#pragma once

#include <optional>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "ike/wire/payloads.hpp"

namespace ikemesh::wire {

namespace detail {

class ChainWriter {
  public:
    void add(const Payload& p);
    void add(const SaPayload& p);
    void add(const KePayload& p);
    void add(const IdiPayload& p);
    void add(const IdrPayload& p);
    void add(const CertPayload& p);
    void add(const CertReqPayload& p);
    void add(const AuthPayload& p);
    void add(const NoncePayload& p);
    void add(const NotifyPayload& p);
    void add(const DeletePayload& p);
    void add(const VendorIdPayload& p);
    void add(const TsiPayload& p);
    void add(const TsrPayload& p);
    void add(const ConfigPayload& p);
    void add(const EapPayload& p);
    void add(const SkPayload& p);
    void add(const SkfPayload& p);
    void add(const UnknownPayload& p);

  protected:
    ChainWriter(Bytes buffer, size_t first_next_at);

    // Writes a generic payload header linked from the previous one, runs `body`, patches the
    // length. Records an error instead when the chain is closed or the payload too long.
    template <typename BodyFn>
    void payload(PayloadType type, bool critical, PayloadType own_next, bool closes, BodyFn&& body);
    void fail(Error e);

    Bytes buf_;
    size_t next_at_;  // where the next payload's type goes (header or previous payload)
    PayloadType first_ = PayloadType::none;
    bool closed_ = false;  // after SK/SKF nothing may follow (RFC 7296 3.14)
    std::optional<Error> error_;
};

}  // namespace detail

// A whole IKE message: `MessageBuilder b(header); b.add(sa).add(ke)...; auto bytes = b.finish();`
// header.next_payload and header.length are ignored and written by the builder.
class MessageBuilder : public detail::ChainWriter {
  public:
    explicit MessageBuilder(const Header& header, Bytes buffer = {});

    template <typename T>
    MessageBuilder& add(const T& p) {
        ChainWriter::add(p);
        return *this;
    }
    // The datagram, or the first error met while adding.
    Result<Bytes> finish();
};

// A payload chain without header: the inner content of SK/SKF.
class ChainBuilder : public detail::ChainWriter {
  public:
    explicit ChainBuilder(Bytes buffer = {});

    template <typename T>
    ChainBuilder& add(const T& p) {
        ChainWriter::add(p);
        return *this;
    }
    // Type of the first payload added (PayloadType::none for an empty chain): the Next Payload
    // value of the SK/SKF payload that will carry this chain.
    PayloadType first_type() const { return first_; }
    Result<Bytes> finish();
};

// Writes the 28-octet header as given (Next Payload and Length included) at the end of `out`.
void write_header(const Header& h, ByteWriter& w);

}  // namespace ikemesh::wire
