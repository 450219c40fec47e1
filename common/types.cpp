#include "common/types.hpp"

#include <cstdio>

namespace ikemesh {

std::string to_hex(IkeSpi spi) {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(spi.value));
    return buf;
}

std::string to_hex(EspSpi spi) {
    char buf[9];
    std::snprintf(buf, sizeof buf, "%08x", spi.value);
    return buf;
}

}  // namespace ikemesh
