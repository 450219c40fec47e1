// Result<T>: a value or an Error, returned across every layer boundary instead of exceptions.
//
// Error carries an error_code (normally an ikemesh::Errc) and an optional human detail that adds
// what the code alone cannot say ("transform 3 of proposal 1 is 2 bytes long"). Details must never
// contain secret material: they end up in logs and in `ikectl status`.
#pragma once

#include <cassert>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>
#include <variant>

#include "common/error.hpp"

namespace ikemesh {

struct Error {
    std::error_code code;
    std::string detail;

    Error(Errc e) : code(make_error_code(e)) {}  // NOLINT: implicit on purpose, `return Errc::x;`
    Error(Errc e, std::string d) : code(make_error_code(e)), detail(std::move(d)) {}
    Error(std::error_code c, std::string d = {}) : code(c), detail(std::move(d)) {}

    bool is(Errc e) const { return code == make_error_code(e); }
    // "integrity check failed: detail" or just the message.
    std::string message() const {
        return detail.empty() ? code.message() : code.message() + ": " + detail;
    }
};

template <typename T>
class [[nodiscard]] Result {
  public:
    using value_type = T;

    Result(const T& v) : state_(v) {}          // NOLINT
    Result(T&& v) : state_(std::move(v)) {}    // NOLINT
    Result(Error e) : state_(std::move(e)) {}  // NOLINT
    Result(Errc e) : state_(Error{e}) {}       // NOLINT
    template <typename U, typename = std::enable_if_t<std::is_constructible_v<T, U&&> &&
                                                      !std::is_same_v<std::decay_t<U>, Error> &&
                                                      !std::is_same_v<std::decay_t<U>, Errc> &&
                                                      !std::is_same_v<std::decay_t<U>, Result>>>
    Result(U&& v) : state_(std::in_place_index<0>, std::forward<U>(v)) {}  // NOLINT

    bool ok() const { return state_.index() == 0; }
    explicit operator bool() const { return ok(); }

    T& value() & {
        assert(ok());
        return std::get<0>(state_);
    }
    const T& value() const& {
        assert(ok());
        return std::get<0>(state_);
    }
    T&& value() && {
        assert(ok());
        return std::get<0>(std::move(state_));
    }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T&& operator*() && { return std::move(*this).value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    const Error& error() const {
        assert(!ok());
        return std::get<1>(state_);
    }
    Error&& take_error() {
        assert(!ok());
        return std::get<1>(std::move(state_));
    }

  private:
    std::variant<T, Error> state_;
};

template <>
class [[nodiscard]] Result<void> {
  public:
    Result() = default;
    Result(Error e) : error_(std::move(e)), failed_(true) {}  // NOLINT
    Result(Errc e) : error_(e), failed_(true) {}              // NOLINT

    bool ok() const { return !failed_; }
    explicit operator bool() const { return ok(); }
    const Error& error() const {
        assert(failed_);
        return error_;
    }
    Error&& take_error() {
        assert(failed_);
        return std::move(error_);
    }

  private:
    Error error_{Errc::ok};
    bool failed_ = false;
};

using Status = Result<void>;

}  // namespace ikemesh
