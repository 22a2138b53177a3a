#pragma once
// Time source. Code that makes decisions on time takes a Clock& so tests can drive it.
// RealClock is thread-safe; FakeClock is thread-safe (its time is guarded by a mutex).

#include <chrono>
#include <mutex>

namespace tmcd {

class Clock {
 public:
  using TimePoint = std::chrono::system_clock::time_point;
  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;
};

class RealClock final : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::system_clock::now(); }
};

class FakeClock final : public Clock {
 public:
  explicit FakeClock(TimePoint start) : now_(start) {}
  TimePoint Now() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return now_;
  }
  void Advance(std::chrono::nanoseconds d) {
    std::lock_guard<std::mutex> lock(mu_);
    now_ += std::chrono::duration_cast<TimePoint::duration>(d);
  }

 private:
  mutable std::mutex mu_;
  TimePoint now_;
};

}  // namespace tmcd
