#pragma once
#include <cmath>

namespace nurec {

// Plain Euclidean 3-vector (GeV for momenta, or dimensionless for directions).
struct Vector3 {
  double x = 0, y = 0, z = 0;

  constexpr Vector3() = default;
  constexpr Vector3(double x_, double y_, double z_) : x(x_), y(y_), z(z_) {}

  constexpr Vector3 operator+(const Vector3& o) const { return {x + o.x, y + o.y, z + o.z}; }
  constexpr Vector3 operator-(const Vector3& o) const { return {x - o.x, y - o.y, z - o.z}; }
  constexpr Vector3 operator-() const { return {-x, -y, -z}; }
  constexpr Vector3 operator*(double a) const { return {a * x, a * y, a * z}; }
  constexpr Vector3 operator/(double a) const { return {x / a, y / a, z / a}; }
  Vector3& operator+=(const Vector3& o) {
    x += o.x;
    y += o.y;
    z += o.z;
    return *this;
  }
  Vector3& operator-=(const Vector3& o) {
    x -= o.x;
    y -= o.y;
    z -= o.z;
    return *this;
  }
  constexpr double dot(const Vector3& o) const { return x * o.x + y * o.y + z * o.z; }
  constexpr Vector3 cross(const Vector3& o) const {
    return {y * o.z - z * o.y, z * o.x - x * o.z, x * o.y - y * o.x};
  }
  constexpr double mag2() const { return x * x + y * y + z * z; }
  double mag() const { return std::sqrt(mag2()); }
  double perp() const { return std::hypot(x, y); }
  Vector3 unit() const {
    const double m = mag();
    return m > 0 ? *this / m : Vector3{};
  }
  double operator[](int i) const { return i == 0 ? x : (i == 1 ? y : z); }
};

inline constexpr Vector3 operator*(double a, const Vector3& v) {
  return v * a;
}

}  // namespace nurec
