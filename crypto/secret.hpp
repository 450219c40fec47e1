// SecretBytes: key material that wipes itself and never prints.
//
// Move-only, so a key is never copied by accident; `clone()` exists for the rare deliberate copy.
// The storage is cleansed with OPENSSL_cleanse on destruction, on move-from and on reassignment.
// There is deliberately no operator<< and no implicit conversion to a view: callers ask for
// `view()` where a primitive needs the bytes. Comparison is constant-time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

namespace ikemesh::crypto {

class SecretBytes {
  public:
    SecretBytes() = default;
    explicit SecretBytes(size_t size);  // zero-filled
    explicit SecretBytes(std::span<const uint8_t> data);
    static SecretBytes from_string(std::string_view text);
    ~SecretBytes();

    SecretBytes(SecretBytes&& other) noexcept;
    SecretBytes& operator=(SecretBytes&& other) noexcept;
    SecretBytes(const SecretBytes&) = delete;
    SecretBytes& operator=(const SecretBytes&) = delete;

    SecretBytes clone() const { return SecretBytes(view()); }

    size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }
    std::span<const uint8_t> view() const { return {data_.get(), size_}; }
    std::span<uint8_t> mutable_view() { return {data_.get(), size_}; }
    // A sub-range as a new secret (key material split out of prf+ output).
    SecretBytes slice(size_t offset, size_t length) const;

    // Constant-time equality (sizes are not secret).
    bool equals(const SecretBytes& other) const;

  private:
    void wipe();

    std::unique_ptr<uint8_t[]> data_;
    size_t size_ = 0;
};

}  // namespace ikemesh::crypto
