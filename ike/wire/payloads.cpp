#include "ike/wire/payloads.hpp"

namespace ikemesh::wire {

PayloadType payload_type(const Payload& p) {
    return std::visit(
        [](const auto& v) -> PayloadType {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, UnknownPayload>) {
                return v.type;
            } else {
                return T::kType;
            }
        },
        p);
}

Bytes id_body(IdType type, ByteView data) {
    Bytes out;
    out.reserve(4 + data.size());
    out.push_back(static_cast<uint8_t>(type));
    out.insert(out.end(), 3, 0);
    out.insert(out.end(), data.begin(), data.end());
    return out;
}

const NotifyPayload* find_notify(const PayloadList& list, NotifyType type) {
    for (const Payload& p : list) {
        const auto* n = std::get_if<NotifyPayload>(&p);
        if (n && n->type == type) return n;
    }
    return nullptr;
}

SmallVector<const NotifyPayload*, 8> notifies(const PayloadList& list) {
    return all_of<NotifyPayload>(list);
}

const NotifyPayload* first_error_notify(const PayloadList& list) {
    for (const Payload& p : list) {
        const auto* n = std::get_if<NotifyPayload>(&p);
        if (n && is_error(n->type)) return n;
    }
    return nullptr;
}

}  // namespace ikemesh::wire
