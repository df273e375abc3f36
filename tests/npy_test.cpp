#include <doctest/doctest.h>

#include <string>

#include "files.h"
#include "graph/error.h"
#include "graph/npy.h"
#include "shell.h"

using namespace sf;

namespace {

using test::read_file;
using test::TempDir;
using test::write_file;

// A v1.0 file with the given dict text (padded) and data bytes.
std::string npy_bytes(const std::string& dict, const std::string& data) {
  std::string h = dict;
  while ((10 + h.size() + 1) % 64 != 0) h += ' ';
  h += '\n';
  std::string out = "\x93NUMPY";
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(h.size() & 0xff);
  out += static_cast<char>(h.size() >> 8);
  return out + h + data;
}

// NumPy (system Python) runs `code`; FAILs the test when NumPy is missing.
bool numpy_ok(const std::string& code) {
  static const bool have = test::shell("/usr/bin/python3 -c 'import numpy'").code == 0;
  if (!have) {
    FAIL("NumPy is not available to /usr/bin/python3: install python3-numpy (apt-get install python3-numpy)");
    return false;
  }
  std::string cmd = "/usr/bin/python3 -c \"import numpy as np\n" + code + "\"";
  test::ShellRun r = test::shell(cmd);
  if (r.code != 0) MESSAGE("python3 exited with status " << r.code << ":\n" << r.out << r.err);
  return r.code == 0;
}

Tensor sample(DType d, Shape s) {
  Tensor t(d, std::move(s));
  for (int64_t i = 0; i < t.size(); ++i) t.set(i, d == DType::b8 ? (i % 3 == 0) : double(i) * (i % 2 ? -1.5 : 2.25));
  return t;
}

void check_equal(const Tensor& a, const Tensor& b) {
  REQUIRE(a.type() == b.type());
  for (int64_t i = 0; i < a.size(); ++i) CHECK(a.get(i) == b.get(i));
}

}  // namespace

TEST_CASE("npy: round trip of every dtype and several shapes") {
  TempDir dir;
  for (DType d : {DType::f32, DType::f64, DType::i32, DType::i64, DType::b8}) {
    for (Shape s : {Shape{}, Shape{0}, Shape{5}, Shape{2, 3, 4}, Shape{3, 0, 2}}) {
      CAPTURE(dtype_name(d));
      CAPTURE(shape_str(s));
      std::string p = dir / "t.npy";
      Tensor t = sample(d, s);
      write_npy(p, t);
      CHECK(read_file(p).size() % 64 == static_cast<size_t>(t.bytes() % 64));  // header aligned to 64
      check_equal(read_npy(p), t);
    }
  }
}

TEST_CASE("npy: NumPy reads what we write and we read what NumPy writes") {
  TempDir dir;
  write_npy(dir / "f8.npy", sample(DType::f64, {2, 3}));
  write_npy(dir / "f4.npy", sample(DType::f32, {4}));
  write_npy(dir / "i4.npy", sample(DType::i32, {2, 2}));
  write_npy(dir / "i8.npy", sample(DType::i64, {}));
  write_npy(dir / "b1.npy", sample(DType::b8, {5}));
  CHECK(numpy_ok("d = '" + dir.path.string() +
                 "/'\n"
                 "a = np.load(d + 'f8.npy'); assert a.dtype == np.float64 and a.shape == (2, 3)\n"
                 "assert (a.ravel() == [0, -1.5, 4.5, -4.5, 9, -7.5]).all()\n"
                 "a = np.load(d + 'f4.npy'); assert a.dtype == np.float32 and a.shape == (4,)\n"
                 "a = np.load(d + 'i4.npy'); assert a.dtype == np.int32 and (a.ravel() == [0, -1, 4, -4]).all()\n"
                 "a = np.load(d + 'i8.npy'); assert a.dtype == np.int64 and a.shape == ()\n"
                 "a = np.load(d + 'b1.npy'); assert a.dtype == np.bool_ and list(a) == [1, 0, 0, 1, 0]\n"
                 "np.save(d + 'np_f8.npy', np.arange(6.0).reshape(2, 3) / 4)\n"
                 "np.save(d + 'np_u1.npy', np.array([0, 3, 1], dtype=np.uint8))\n"
                 "np.save(d + 'np_f4.npy', np.array([[1.5], [-2]], dtype=np.float32))\n"
                 "np.save(d + 'np_i8.npy', np.array(-7, dtype=np.int64))\n"
                 "np.save(d + 'np_fortran.npy', np.asfortranarray(np.ones((2, 3))))\n"
                 "np.save(d + 'np_big.npy', np.ones(3, dtype='>f8'))\n"
                 "with open(d + 'np_v2.npy', 'wb') as f:\n"
                 "    np.lib.format.write_array(f, np.array([1, 2], dtype=np.int32), version=(2, 0))\n"
                 "with open(d + 'np_v3.npy', 'wb') as f:\n"
                 "    np.lib.format.write_array(f, np.array([True, False]), version=(3, 0))\n"));
  Tensor a = read_npy(dir / "np_f8.npy");
  CHECK(a.type() == Type::tensor(DType::f64, {2, 3}));
  CHECK(a.get(5) == 1.25);
  Tensor u = read_npy(dir / "np_u1.npy");
  CHECK(u.dtype() == DType::b8);
  CHECK(u.get(0) == 0);
  CHECK(u.get(1) == 1);  // nonzero reads as true
  CHECK(read_npy(dir / "np_f4.npy").type() == Type::tensor(DType::f32, {2, 1}));
  CHECK(read_npy(dir / "np_f4.npy").get(1) == -2);
  CHECK(read_npy(dir / "np_i8.npy").get(0) == -7);
  Tensor v2 = read_npy(dir / "np_v2.npy");
  CHECK(v2.type() == Type::tensor(DType::i32, {2}));
  CHECK(v2.get(1) == 2);
  CHECK(read_npy(dir / "np_v3.npy").get(0) == 1);
  CHECK_THROWS_WITH_AS(read_npy(dir / "np_fortran.npy"),
                       doctest::Contains("Fortran-order arrays are not supported"), Error);
  CHECK_THROWS_WITH_AS(read_npy(dir / "np_big.npy"), doctest::Contains("big-endian"), Error);
}

TEST_CASE("npy: NpyRowWriter streams rows and patches the row count") {
  TempDir dir;
  std::string p = dir / "rows.npy";
  {
    NpyRowWriter w(p, DType::f64, 3);
    w.append(sample(DType::f64, {3}));     // one row as a vector
    w.append(sample(DType::f64, {2, 3}));  // a block of rows
    w.append(Tensor(DType::f64, {0, 3}));  // nothing
    CHECK(w.rows() == 3);
    CHECK_THROWS_AS(w.append(sample(DType::f32, {3})), Error);
    CHECK_THROWS_AS(w.append(sample(DType::f64, {2, 4})), Error);
    w.close();
    w.close();  // idempotent
  }
  Tensor r = read_npy(p);
  REQUIRE(r.type() == Type::tensor(DType::f64, {3, 3}));
  Tensor one = sample(DType::f64, {3}), two = sample(DType::f64, {2, 3});
  for (int i = 0; i < 3; ++i) CHECK(r.get(i) == one.get(i));
  for (int i = 0; i < 6; ++i) CHECK(r.get(3 + i) == two.get(i));

  std::string q = dir / "destructor.npy";
  {
    NpyRowWriter w(q, DType::i32, 2);
    for (int k = 0; k < 1000; ++k) w.append(Tensor::filled(DType::i32, {2}, k));
  }  // the destructor closes
  Tensor s = read_npy(q);
  CHECK(s.shape() == Shape{1000, 2});
  CHECK(s.get(1999) == 999);

  std::string e = dir / "empty.npy";
  { NpyRowWriter w(e, DType::b8, 4); }
  CHECK(read_npy(e).shape() == Shape{0, 4});
  CHECK(numpy_ok("a = np.load('" + p + "'); assert a.shape == (3, 3) and a[2, 2] == -7.5\n"
                 "b = np.load('" + q + "'); assert b.shape == (1000, 2) and b.dtype == np.int32 and b[999, 1] == 999\n"
                 "c = np.load('" + e + "'); assert c.shape == (0, 4) and c.dtype == np.bool_\n"));
}

TEST_CASE("npy: malformed files give an error with the path and the reason") {
  TempDir dir;
  std::string p = dir / "bad.npy";
  std::string f8 = "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }";
  std::string data(16, '\0');
  struct Case {
    std::string bytes, reason;
  };
  Case cases[] = {
      {"", "bad magic"},
      {"PK\x03\x04 this is a zip", "bad magic"},
      {"\x93NUMPY\x01", "bad magic"},
      {std::string("\x93NUMPY\x01\x00", 8), "truncated header"},
      {std::string("\x93NUMPY\x09\x00\x10\x00", 10), "unsupported .npy version 9.0"},
      {npy_bytes(f8, data).substr(0, 40), "truncated header"},
      {npy_bytes(f8, data.substr(0, 9)), "truncated data: expected 16 bytes for f64[2], found 9"},
      {npy_bytes(f8, data + "x"), "unexpected bytes after the array data"},
      {npy_bytes("{'descr': '<f8', 'fortran_order': True, 'shape': (2,), }", data), "Fortran-order"},
      {npy_bytes("{'descr': '>i4', 'fortran_order': False, 'shape': (2,), }", data), "big-endian"},
      {npy_bytes("{'descr': '<c16', 'fortran_order': False, 'shape': (1,), }", data), "unsupported dtype '<c16'"},
      {npy_bytes("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", data), "object arrays"},
      {npy_bytes("{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (2,), }", data), "structured dtypes"},
      {npy_bytes("{'descr': '<f8', 'fortran_order': False, }", data), "lacks 'descr' or 'shape'"},
      {npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (-2,), }", data), "expected a dimension"},
      {npy_bytes("{'descr': '<f8', 'shape': (1,1,1,1,1,1,2), }", data), "rank 7 exceeds"},
      {npy_bytes("{'descr': '<f8', 'shape': (2,), 'bogus': 1}", data), "unknown header key 'bogus'"},
      {npy_bytes("{'descr': '<f8', 'shape': (99999999999999,99999999999999), }", data), "shape too large"},
      {npy_bytes("'descr': '<f8'", data), "expected '{'"},
  };
  for (auto& c : cases) {
    CAPTURE(c.reason);
    write_file(p, c.bytes);
    CHECK_THROWS_WITH_AS(read_npy(p), doctest::Contains(p.c_str()), Error);
    CHECK_THROWS_WITH_AS(read_npy(p), doctest::Contains(c.reason.c_str()), Error);
  }
  CHECK_THROWS_WITH_AS(read_npy(dir / "missing.npy"), doctest::Contains("cannot open"), Error);
  CHECK_THROWS_WITH_AS(write_npy(dir / "no/such/dir.npy", Tensor(DType::f64, {1})),
                       doctest::Contains("cannot open"), Error);
  CHECK_THROWS_AS(NpyRowWriter(dir / "no/such/dir.npy", DType::f64, 1), Error);
}

TEST_CASE("npy: the TensorFlow reference files") {
  std::string dir = SF_SHARED_DIR "/reference/psst-tf/";
  Tensor s = read_npy(dir + "d5_state_vector.npy");
  CHECK(s.type() == Type::tensor(DType::f64, {17}));
  CHECK(s.get(0) == -71.86649748949371);
  Tensor m = read_npy(dir + "d5_ach_mat.npy");
  CHECK(m.shape() == Shape{3, 3});
  // A pickled object array: a clear error, not a crash.
  CHECK_THROWS_WITH_AS(read_npy(dir + "d5_time.npy"),
                       doctest::Contains("d5_time.npy: object arrays (pickled Python objects) are not supported"), Error);
}
