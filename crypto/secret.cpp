#include "crypto/secret.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <cassert>

namespace ikemesh::crypto {

SecretBytes::SecretBytes(size_t size)
    : data_(size ? std::make_unique<uint8_t[]>(size) : nullptr), size_(size) {}

SecretBytes::SecretBytes(std::span<const uint8_t> data) : SecretBytes(data.size()) {
    std::copy(data.begin(), data.end(), data_.get());
}

SecretBytes SecretBytes::from_string(std::string_view text) {
    return SecretBytes(
        std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

SecretBytes::~SecretBytes() {
    wipe();
}

SecretBytes::SecretBytes(SecretBytes&& other) noexcept
    : data_(std::move(other.data_)), size_(other.size_) {
    other.size_ = 0;
}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
    if (this != &other) {
        wipe();
        data_ = std::move(other.data_);
        size_ = other.size_;
        other.size_ = 0;
    }
    return *this;
}

SecretBytes SecretBytes::slice(size_t offset, size_t length) const {
    assert(offset <= size_ && length <= size_ - offset);
    return SecretBytes(view().subspan(offset, length));
}

bool SecretBytes::equals(const SecretBytes& other) const {
    if (size_ != other.size_) return false;
    if (size_ == 0) return true;
    return CRYPTO_memcmp(data_.get(), other.data_.get(), size_) == 0;
}

void SecretBytes::wipe() {
    if (data_) OPENSSL_cleanse(data_.get(), size_);
    data_.reset();
    size_ = 0;
}

}  // namespace ikemesh::crypto
