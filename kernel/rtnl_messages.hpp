// Pure builders and parsers of the rtnetlink messages of the route lookup (RTM_GETROUTE) and of
// the address and route notifications ikemesh follows.
//
// `ip route get ADDR` in message form: an RTM_GETROUTE request with RTA_DST asks the kernel to
// route ADDR as if a packet were sent to it; the answer is one RTM_NEWROUTE whose RTA_PREFSRC is
// the source address the kernel would pick (IPv4: the route's `src` or the first primary address
// of the outgoing interface; IPv6: RFC 6724 source selection), or an error when there is no
// route. Nothing here opens a socket, so unit tests check exact bytes and malformed input. The
// framing is the netlink framing of xfrm_messages.hpp (split_messages), in host byte order; the
// addresses inside attributes are in network order. This header includes no kernel header.
#pragma once

#include <cstdint>
#include <optional>

#include "common/bytes.hpp"
#include "common/ip.hpp"
#include "common/result.hpp"
#include "kernel/xfrm_messages.hpp"

namespace ikemesh::kernel::rtnl {

using xfrm::NetlinkMessage;

// RTM_GETROUTE for the route to `dst` (NLM_F_REQUEST; answered by RTM_NEWROUTE or an error).
void build_get_route(Bytes& out, const IpAddress& dst, uint32_t seq);

// One message of the answer to build_get_route, for destination family `family`:
// RTM_NEWROUTE -> its RTA_PREFSRC (nullopt if it has none, or if the route is unreachable,
// prohibited or a blackhole); NLMSG_ERROR with a "no route" errno (ENETUNREACH, EHOSTUNREACH,
// EACCES, EINVAL of a blackhole, ENETDOWN) -> nullopt; any other error, or a malformed or
// unexpected message -> an Error.
Result<std::optional<IpAddress>> parse_route_answer(const NetlinkMessage& m,
                                                    IpAddress::Family family);

// The rtnetlink multicast groups whose notifications may change a route lookup's answer:
// IPv4/IPv6 addresses and routes, and links (IPv4 drops routes of a link going down without a
// RTM_DELROUTE of its own).
uint32_t change_groups();
// Whether a notification of those groups is one (RTM_NEW/DELADDR, RTM_NEW/DELROUTE,
// RTM_NEW/DELLINK).
bool is_change(uint16_t type);

}  // namespace ikemesh::kernel::rtnl
