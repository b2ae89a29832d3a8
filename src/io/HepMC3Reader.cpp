#include "nurec/io/HepMC3Reader.hpp"

#include <HepMC3/GenCrossSection.h>
#include <HepMC3/GenEvent.h>
#include <HepMC3/GenParticle.h>
#include <HepMC3/GenPdfInfo.h>
#include <HepMC3/GenVertex.h>
#include <HepMC3/ReaderAscii.h>
#include <HepMC3/Setup.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <istream>
#include <limits>
#include <memory>
#include <sstream>
#include <streambuf>
#include <utility>

#include "nurec/core/Error.hpp"
#include "nurec/core/Progress.hpp"
#include "nurec/core/Units.hpp"

namespace nurec::io {

const char* hepmc3StatusName(HepMC3Status s) {
  switch (s) {
    case HepMC3Status::Ok:
      return "ok";
    case HepMC3Status::NoTauPair:
      return "no tau pair";
    case HepMC3Status::UndecayedTau:
      return "undecayed tau";
    case HepMC3Status::BadMomentum:
      return "NaN/inf momentum";
    case HepMC3Status::BadTauDecay:
      return "bad tau decay";
    case HepMC3Status::IncompleteEvent:
      return "incomplete event";
  }
  return "?";
}

int pdgThreeCharge(int pdgId) {
  // Quarks d u s c b t (in units of e/3), indexed by the PDG quark digit.
  static constexpr int quark[7] = {0, -1, 2, -1, 2, -1, 2};
  const int sign = pdgId < 0 ? -1 : 1;
  const int a = std::abs(pdgId);
  if (a >= 1000000000) return sign * 3 * ((a / 10000) % 1000);  // nucleus 10LZZZAAAI
  if (a <= 6) return sign * quark[a];
  switch (a) {
    case 11:
    case 13:
    case 15:
    case 17:
      return -3 * sign;  // charged leptons
    case 24:
    case 37:
      return 3 * sign;  // W+, H+
    default:
      break;
  }
  if (a < 100) return 0;  // neutrinos, gluon, photon, Z, h, ...
  const int code = a % 10000;
  const int q1 = (code / 1000) % 10, q2 = (code / 100) % 10, q3 = (code / 10) % 10;
  if (q1 > 6 || q2 > 6 || q3 > 6 || q3 == 0) return 0;
  int charge;
  if (q1 == 0) {
    // Meson q2 q3bar; when the heavier quark q2 is down-type the particle is q3 q2bar.
    charge = quark[q2] - quark[q3];
    if (q2 % 2 == 1) charge = -charge;
  } else {
    charge = quark[q1] + quark[q2] + quark[q3];  // baryon
  }
  return sign * charge;
}

namespace {

using HepMC3::ConstGenParticlePtr;
using HepMC3::GenEvent;

// A std::streambuf over zlib's gzFile (which reads plain files transparently), one line at a
// time, that watches the lines HepMC3 itself is lenient about: the units line (HepMC3 3.1.2
// replaces an unknown unit by GEV with only a printed message) and the event line "E n nv np",
// whose counts reveal an event cut short by a truncated file.
class GzLineBuffer : public std::streambuf {
 public:
  // Far above any real record (a 13 TeV event with pile-up has ~10^4 particles): a larger count
  // in an event line is damage, and HepMC3 would try to reserve memory for it.
  static constexpr long long kMaxRecordSize = 10'000'000;

  explicit GzLineBuffer(const std::string& path) : path_(path) {
    file_ = gzopen(path.c_str(), "rb");
    if (!file_) throw InputError(fmt::format("{}: cannot open the HepMC3 file", path));
    gzbuffer(file_, 1 << 17);
    buffer_.resize(1 << 16);
  }
  ~GzLineBuffer() override {
    if (file_) gzclose(file_);
  }
  GzLineBuffer(const GzLineBuffer&) = delete;
  GzLineBuffer& operator=(const GzLineBuffer&) = delete;

  struct Header {
    long long number = 0;
    std::size_t vertices = 0, particles = 0;
  };
  // Bytes of the (possibly compressed) file consumed so far.
  std::size_t fileOffset() {
    return static_cast<std::size_t>(std::max<z_off_t>(0, gzoffset(file_)));
  }
  std::deque<Header> headers;  // event lines seen and not yet matched with an event
  std::string error;           // a fatal problem (unknown unit, corrupt gzip data, bad syntax)
  bool truncatedGzip = false;
  std::size_t lineNumber = 0;
  bool atEnd() const { return eof_; }

 protected:
  int_type underflow() override {
    if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
    if (!error.empty() || eof_) return traits_type::eof();
    char* data = buffer_.data();
    if (!gzgets(file_, data, static_cast<int>(buffer_.size()))) {
      eof_ = true;
      int code = Z_OK;
      const char* msg = gzerror(file_, &code);
      if (code == Z_BUF_ERROR)
        truncatedGzip = true;
      else if (code != Z_OK && code != Z_STREAM_END)
        error = fmt::format("corrupt compressed data ({})", msg ? msg : "zlib error");
      return traits_type::eof();
    }
    const std::size_t len = std::strlen(data);
    // gzgets stops at a newline or a full buffer; a shorter piece without a newline before the
    // end of the file holds a NUL byte, which would silently glue the rest of this line to the
    // next one (a fuzzing finding: that hid an over-long attribute name from the check below).
    if (len + 1 < buffer_.size() && (len == 0 || data[len - 1] != '\n') && !gzeof(file_)) {
      error = fmt::format("line {}: a NUL byte inside the line (binary data)", lineNumber + 1);
      return traits_type::eof();
    }
    if (atLineStart_) inspect(data, len);
    atLineStart_ = len > 0 && data[len - 1] == '\n';
    if (atLineStart_) ++lineNumber;
    setg(data, data, data + len);
    if (!error.empty()) return traits_type::eof();
    return len ? traits_type::to_int_type(*data) : traits_type::eof();
  }

 private:
  // HepMC3 reads numbers with atoi/atof, so a damaged field becomes a plausible 0 and a damaged
  // count can make it skip the rest of the file: event and particle lines are checked here.
  static bool isNumber(const std::string& token, bool integer) {
    if (token.empty()) return false;
    char* end = nullptr;
    if (integer) {
      errno = 0;
      (void)std::strtoll(token.c_str(), &end, 10);
      if (errno == ERANGE) return false;
    } else {
      (void)std::strtod(token.c_str(), &end);
    }
    return end != nullptr && *end == '\0';
  }
  void malformed(const char* what, const char* line, std::size_t len) {
    std::string_view text(line, len);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
    error = fmt::format("line {}: {} ('{}')", lineNumber + 1, what, printableExcerpt(text, 80));
  }
  void inspect(const char* line, std::size_t len) {
    if (len == 0) return;
    // HepMC3 picks the parser by the first character alone ("A3 x" is an attribute line too).
    if (line[0] == 'E') seenEvent_ = true;
    if (line[0] == 'W' || line[0] == 'T' || line[0] == 'A') {
      // HepMC3 unescapes names, tool lines and attribute values and steps past the end of the
      // text after a final, unpaired backslash (a read out of bounds; fuzzing,
      // docs/reliability.md).
      std::string_view text(line, len);
      while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
      std::size_t backslashes = 0;
      while (backslashes < text.size() && text[text.size() - 1 - backslashes] == '\\')
        ++backslashes;
      if (backslashes % 2 == 1) {
        malformed("the line ends in an unpaired backslash", line, len);
        return;
      }
    }
    if (line[0] == 'A') {
      // "A id name value" in an event, "A name value" in the run header before the first event.
      // HepMC3 finds the name with strchr from the second character on and copies it into a
      // 64-byte stack buffer without a bound (longer names smashed the stack; fuzzing,
      // docs/reliability.md), so the name it would copy is found the same way and refused at 64
      // characters or more. Whether HepMC3 reads a line as a run or an event attribute depends
      // on its own parsing state, which damaged event lines can leave in the run header, so the
      // run reading (the first word, an event attribute's short id) is checked on every A line
      // (a second fuzzing finding smashed the stack in parse_run_attribute after "E" lines).
      const std::string_view text(line, len);
      const auto nameTooLong = [&](std::size_t spaceBefore) {
        const std::size_t end = text.find(' ', spaceBefore + 1);
        return end != std::string_view::npos && end - (spaceBefore + 1) >= 64;
      };
      std::size_t space = text.find(' ', 1);
      if (space != std::string_view::npos && nameTooLong(space)) {
        malformed("attribute name longer than 63 characters", line, len);
        return;
      }
      if (seenEvent_ && space != std::string_view::npos) space = text.find(' ', space + 1);
      if (space != std::string_view::npos) {
        const std::size_t end = text.find(' ', space + 1);
        if (nameTooLong(space)) {
          malformed("attribute name longer than 63 characters", line, len);
          return;
        }
        // HepMC3 3.1 parses a GenCrossSection value with strchr and, when the accepted or the
        // attempted event count is missing (2 or 3 fields), keeps searching from a null pointer
        // (SEGV; fuzzing, docs/reliability.md). Its own writer always writes at least 4 fields.
        if (seenEvent_ && end != std::string_view::npos &&
            text.substr(space + 1, end - space - 1) == "GenCrossSection") {
          std::string_view value = text.substr(end + 1);
          while (!value.empty() && (value.back() == '\n' || value.back() == '\r'))
            value.remove_suffix(1);
          const auto spaces =
              value.size() > 1 ? std::count(value.begin() + 1, value.end(), ' ') : 0;
          if (spaces == 1 || spaces == 2) {
            malformed(
                "GenCrossSection attribute without its accepted and attempted event counts "
                "(expected: cross section, error, accepted, attempted)",
                line, len);
            return;
          }
        }
      }
    }
    if (len < 2 || line[1] != ' ') return;
    // A line without its newline is the cut end of a truncated file: HepMC3 then reports the
    // record as incomplete, which is a counted per-event status, not a syntax error.
    const bool complete = line[len - 1] == '\n';
    if (line[0] == 'E' && complete) {
      // "E number n_vertices n_particles [position]": three integers, counts of a real event.
      std::istringstream in(std::string(line + 2, len - 2));
      std::string number, vertices, particles;
      in >> number >> vertices >> particles;
      if (!isNumber(number, true) || !isNumber(vertices, true) || !isNumber(particles, true)) {
        malformed("malformed event line", line, len);
        return;
      }
      Header h;
      h.number = std::stoll(number);
      const long long nv = std::stoll(vertices), np = std::stoll(particles);
      if (nv < 0 || np < 0 || nv > kMaxRecordSize || np > kMaxRecordSize) {
        malformed("impossible vertex or particle count in the event line", line, len);
        return;
      }
      h.vertices = static_cast<std::size_t>(nv);
      h.particles = static_cast<std::size_t>(np);
      headers.push_back(h);
    } else if (line[0] == 'P' && complete) {
      // "P id mother pid px py pz e m status": nine numbers.
      std::istringstream in(std::string(line + 2, len - 2));
      std::string token;
      int n = 0;
      while (in >> token) {
        const bool integer = n < 3 || n == 8;
        if (!isNumber(token, integer)) {
          malformed(integer ? "non-integer field in a particle line"
                            : "non-numeric momentum or mass in a particle line",
                    line, len);
          return;
        }
        ++n;
      }
      if (n != 9) malformed("a particle line needs 9 fields", line, len);
    } else if (line[0] == 'U') {
      std::istringstream in(std::string(line + 2, len - 2));
      std::string momentum, length;
      in >> momentum >> length;
      if (momentum != "GEV" && momentum != "MEV") {
        error = fmt::format("line {}: unknown momentum unit '{}' (expected GEV or MEV)",
                            lineNumber + 1, printableExcerpt(momentum));
      } else if (length != "MM" && length != "CM") {
        error = fmt::format("line {}: unknown length unit '{}' (expected MM or CM)", lineNumber + 1,
                            printableExcerpt(length));
      }
    }
  }

  std::string path_;
  gzFile file_ = nullptr;
  std::vector<char> buffer_;
  bool atLineStart_ = true;
  bool eof_ = false;
  bool seenEvent_ = false;  // an event line was read: attribute lines are event attributes
};

// HepMC3 3.1.2's ReaderAscii printf()s to stdout on a count mismatch ("%zu vs %i expected"),
// whatever its print settings; the reader detects that case itself, so stdout is pointed at
// /dev/null while it runs (reading happens on the calling thread, which prints nothing meanwhile).
class StdoutSilencer {
 public:
  StdoutSilencer() {
    std::fflush(stdout);
    saved_ = ::dup(STDOUT_FILENO);
    const int devNull = ::open("/dev/null", O_WRONLY);
    if (saved_ >= 0 && devNull >= 0) ::dup2(devNull, STDOUT_FILENO);
    if (devNull >= 0) ::close(devNull);
  }
  ~StdoutSilencer() {
    std::fflush(stdout);
    if (saved_ >= 0) {
      ::dup2(saved_, STDOUT_FILENO);
      ::close(saved_);
    }
  }
  StdoutSilencer(const StdoutSilencer&) = delete;
  StdoutSilencer& operator=(const StdoutSilencer&) = delete;

 private:
  int saved_ = -1;
};

// The first non-empty lines must be a HepMC3 ASCII header.
void checkHeader(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw InputError(fmt::format("{}: cannot open the HepMC3 file", path));
  char line[256];
  std::string first, second;
  for (int i = 0; i < 20 && gzgets(f, line, sizeof line); ++i) {
    std::string text = line;
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' '))
      text.pop_back();
    if (text.empty()) continue;
    if (first.empty()) {
      first = text;
    } else {
      second = text;
      break;
    }
  }
  gzclose(f);
  if (first.rfind("HepMC::IO_GenEvent", 0) == 0 || second.rfind("HepMC::IO_GenEvent", 0) == 0 ||
      first.rfind("HepMC::Version 2", 0) == 0) {
    throw InputError(
        fmt::format("{}: this is a HepMC2 file (IO_GenEvent); convert it to HepMC3 "
                    "ASCII (e.g. with HepMC3's convert_example) first",
                    path));
  }
  if (first.rfind("HepMC::Version", 0) != 0 && first.rfind("HepMC::Asciiv3", 0) != 0) {
    throw InputError(
        fmt::format("{}: not a HepMC3 ASCII file (first line '{}', expected "
                    "'HepMC::Version ...' or 'HepMC::Asciiv3-START_EVENT_LISTING')",
                    path, printableExcerpt(first)));
  }
}

bool finiteMomentum(const HepMC3::FourVector& p) {
  return std::isfinite(p.px()) && std::isfinite(p.py()) && std::isfinite(p.pz()) &&
         std::isfinite(p.e());
}

FourVector toFourVector(const HepMC3::FourVector& p) {
  return {p.px(), p.py(), p.pz(), p.e()};
}

bool isTau(const ConstGenParticlePtr& p) {
  return std::abs(p->pid()) == pdg::tau;
}

bool isFinal(const ConstGenParticlePtr& p) {
  return !p->end_vertex() || p->end_vertex()->particles_out().empty();
}

// The decaying copy of a tau line: it has a decay vertex and no tau among its products.
bool isDecayingTau(const ConstGenParticlePtr& p) {
  if (!isTau(p) || isFinal(p)) return false;
  for (const auto& child : p->end_vertex()->particles_out())
    if (child->pid() == p->pid()) return false;
  return true;
}

// The first copy of a tau line (walking up through copies of the same particle).
ConstGenParticlePtr firstCopy(ConstGenParticlePtr p) {
  for (int guard = 0; guard < 1000; ++guard) {
    const auto v = p->production_vertex();
    if (!v) break;
    ConstGenParticlePtr mother;
    for (const auto& m : v->particles_in())
      if (m->pid() == p->pid()) mother = m;
    if (!mother) break;
    p = mother;
  }
  return p;
}

// The mother of a first tau copy is a boson, or the tau comes from a vertex with two incoming
// partons (the hard process written without an intermediate boson).
bool fromHardProcess(const ConstGenParticlePtr& first) {
  const auto v = first->production_vertex();
  if (!v) return false;
  for (const auto& m : v->particles_in()) {
    constexpr int kHiggs = 25, kZPrime = 32, kHeavyHiggs = 35, kPseudoscalarHiggs = 36;
    const int a = std::abs(m->pid());
    if (a == pdg::photon || a == pdg::Z || a == pdg::W || a == kHiggs || a == kZPrime ||
        a == kHeavyHiggs || a == kPseudoscalarHiggs)
      return true;
  }
  return v->particles_in().size() == 2;
}

struct TauDecay {
  std::vector<Particle> visible;  // final state (pi0 kept whole)
  std::vector<Particle> neutrinos;
  bool cyclic = false;
};

// Walks the decay tree below `p`: final-state particles and pi0s are products; everything else
// (rho, a1, W, K*, omega, eta, K0S, copies, ...) is followed to its own products. Every particle
// reached is marked in `fromTau` (by HepMC3 id) so that it is not counted as recoil.
void collectProducts(const ConstGenParticlePtr& p, TauDecay& out, std::vector<char>& fromTau,
                     int depth) {
  const auto id = static_cast<std::size_t>(p->id());
  if (id < fromTau.size()) {
    if (fromTau[id] && depth > 0) return;  // reached twice (a malformed record)
    fromTau[id] = 1;
  }
  if (depth > 200) {
    out.cyclic = true;
    return;
  }
  const int pid = p->pid();
  const bool final = isFinal(p);
  if (pid == pdg::piZero || final) {
    const Particle part{toFourVector(p->momentum()), pid};
    if (pdg::isNeutrino(pid))
      out.neutrinos.push_back(part);
    else
      out.visible.push_back(part);
    if (pid == pdg::piZero && !final) {  // mark the pi0's photons as tau descendants too
      for (const auto& child : p->end_vertex()->particles_out()) {
        TauDecay ignored;
        collectProducts(child, ignored, fromTau, depth + 1);
      }
    }
    return;
  }
  for (const auto& child : p->end_vertex()->particles_out())
    collectProducts(child, out, fromTau, depth + 1);
}

DecayMode classify(const TauDecay& d, FourVector& chargedPion, FourVector& neutralPion) {
  int nElectron = 0, nMuon = 0, nChargedPion = 0, nPi0 = 0, nOtherHadron = 0;
  for (const auto& p : d.visible) {
    const int a = std::abs(p.pdgId);
    if (a == pdg::electron)
      ++nElectron;
    else if (a == pdg::muon)
      ++nMuon;
    else if (a == pdg::piPlus) {
      ++nChargedPion;
      chargedPion = p.p4;
    } else if (a == pdg::piZero) {
      ++nPi0;
      neutralPion = p.p4;
    } else if (a != pdg::photon) {
      ++nOtherHadron;  // K, K0L, p, ...; photons are QED radiation and do not change the mode
    }
  }
  const int nNu = static_cast<int>(d.neutrinos.size());
  const int nHadrons = nChargedPion + nPi0 + nOtherHadron;
  if (nHadrons == 0 && nNu == 2 && nElectron + nMuon == 1)
    return nElectron ? DecayMode::Electron : DecayMode::Muon;
  if (nElectron + nMuon == 0 && nOtherHadron == 0 && nChargedPion == 1 && nNu == 1) {
    if (nPi0 == 0) return DecayMode::Pi;
    if (nPi0 == 1) return DecayMode::Rho;
  }
  return DecayMode::Other;
}

struct EventResult {
  TruthEvent truth;
  HepMC3Status status = HepMC3Status::Ok;
};

EventResult convert(const GenEvent& evt) {
  EventResult r;
  auto& truth = r.truth;
  const auto& particles = evt.particles();
  for (const auto& p : particles) {
    if (!finiteMomentum(p->momentum())) {
      r.status = HepMC3Status::BadMomentum;
      return r;
    }
  }
  std::vector<char> fromTau(particles.size() + 2, 0);
  ConstGenParticlePtr tau[2];  // [0] tau+ (pid -15), [1] tau- (pid 15)
  bool undecayed = false;
  for (const auto& p : particles) {
    if (!isTau(p)) continue;
    if (isFinal(p)) {
      undecayed = true;
      continue;
    }
    if (!isDecayingTau(p)) continue;
    const int slot = p->pid() < 0 ? 0 : 1;
    // Several decaying taus of one sign (e.g. taus from hadron decays): prefer the ones whose
    // line starts at a boson (gamma*, Z, W, H, Z') or at the hard vertex, then the hardest.
    auto rank = [](const ConstGenParticlePtr& t) {
      return std::make_pair(fromHardProcess(firstCopy(t)) ? 1 : 0, t->momentum().perp());
    };
    if (!tau[slot] || rank(p) > rank(tau[slot])) tau[slot] = p;
  }
  if (!tau[0] || !tau[1])
    r.status = undecayed ? HepMC3Status::UndecayedTau : HepMC3Status::NoTauPair;
  if (r.status == HepMC3Status::Ok) {
    for (int t = 0; t < 2; ++t) {
      TauDecay d;
      for (const auto& child : tau[t]->end_vertex()->particles_out())
        collectProducts(child, d, fromTau, 1);
      bool hasNuTau = false;
      for (const auto& nu : d.neutrinos) hasNuTau |= std::abs(nu.pdgId) == pdg::nuTau;
      if (d.cyclic || !hasNuTau) {
        r.status = HepMC3Status::BadTauDecay;
        break;
      }
      truth.tau[t] = toFourVector(tau[t]->momentum());
      truth.decayMode[t] = classify(d, truth.chargedPion[t], truth.neutralPion[t]);
      if (truth.decayMode[t] != DecayMode::Pi && truth.decayMode[t] != DecayMode::Rho)
        truth.chargedPion[t] = truth.neutralPion[t] = FourVector{};
      if (truth.decayMode[t] == DecayMode::Pi) truth.neutralPion[t] = FourVector{};
      for (const auto& v : d.visible) truth.visible[t] += v.p4;
      for (const auto& nu : d.neutrinos) truth.neutrinos[t] += nu.p4;
      // The schema keeps at most 2 individual neutrinos: the nu_tau first, then the hardest other
      // (a third one only appears in rare "other" decays through K -> l nu); the sum has all.
      std::stable_sort(
          d.neutrinos.begin(), d.neutrinos.end(), [](const Particle& a, const Particle& b) {
            const bool ta = std::abs(a.pdgId) == pdg::nuTau, tb = std::abs(b.pdgId) == pdg::nuTau;
            if (ta != tb) return ta;
            return a.p4.e > b.p4.e;
          });
      if (d.neutrinos.size() > 2) d.neutrinos.resize(2);
      truth.tauNeutrinos[t] = std::move(d.neutrinos);
      truth.tauProducts[t] = std::move(d.visible);
    }
  }
  if (r.status != HepMC3Status::Ok) {
    // Keep the row (counted, status recorded) with no tau content; all final-state particles are
    // recoil, so jets and MET of the event are still defined.
    truth = TruthEvent{};
    std::fill(fromTau.begin(), fromTau.end(), 0);
  } else {
    truth.boson =
        toFourVector(firstCopy(tau[0])->momentum()) + toFourVector(firstCopy(tau[1])->momentum());
    // Positions (mm; the caller converts the length unit): the tau decay vertices and the
    // production vertex of the first tau copy as the primary vertex. Files without positions
    // (all zero, HepMC3's default) have none.
    const auto production = firstCopy(tau[0])->production_vertex();
    const auto decay0 = tau[0]->end_vertex(), decay1 = tau[1]->end_vertex();
    auto pos = [](const HepMC3::ConstGenVertexPtr& v) {
      const auto& x = v->position();
      return Vector3{x.x(), x.y(), x.z()};
    };
    if (production && decay0 && decay1 && production->has_set_position() &&
        decay0->has_set_position() && decay1->has_set_position()) {
      truth.primaryVertex = pos(production);
      truth.tauDecayVertex = {pos(decay0), pos(decay1)};
      const bool finite = std::isfinite(truth.primaryVertex.mag2()) &&
                          std::isfinite(truth.tauDecayVertex[0].mag2()) &&
                          std::isfinite(truth.tauDecayVertex[1].mag2());
      truth.hasVertices = finite;
    }
  }
  for (const auto& p : particles) {
    if (p->status() != 1 || !isFinal(p)) continue;
    const auto id = static_cast<std::size_t>(p->id());
    if (id < fromTau.size() && fromTau[id]) continue;
    truth.recoil.push_back({toFourVector(p->momentum()), p->pid()});
  }
  if (const auto pdf = evt.pdf_info()) {
    for (int b = 0; b < 2; ++b) {
      truth.partonPdg[b] = pdf->parton_id[b];
      truth.partonX[b] = std::isfinite(pdf->x[b]) ? pdf->x[b] : 0.0;
    }
  } else {
    // No PDF record: the incoming partons of the hard process (status 21 as in Pythia 8), beam A
    // (+z) first, x = E(parton) / E(beam on that side).
    ConstGenParticlePtr parton[2], beam[2];
    int nPartons = 0;
    for (const auto& p : particles) {
      const int side = p->momentum().pz() >= 0 ? 0 : 1;
      if (p->status() == 4) beam[side] = p;
      if (p->status() == 21) {
        ++nPartons;
        parton[side] = p;
      }
    }
    if (nPartons == 2 && parton[0] && parton[1]) {
      for (int b = 0; b < 2; ++b) {
        truth.partonPdg[b] = parton[b]->pid();
        if (beam[b] && beam[b]->momentum().e() > 0)
          truth.partonX[b] = parton[b]->momentum().e() / beam[b]->momentum().e();
      }
    }
  }
  return r;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// HepMC3Reader

struct HepMC3Reader::Impl {
  std::string path;
  GzLineBuffer buffer;
  std::istream stream;
  HepMC3::ReaderAscii reader;
  Progress progress;
  std::size_t progressMb = 0;
  HepMC3Input totals;  // file-level fields only
  std::size_t records = 0;
  bool firstEvent = true;
  bool ended = false;
  int failuresInARow = 0;

  Impl(const std::string& p, bool showProgress)
      : path(p),
        buffer(p),
        stream(&buffer),
        reader(stream),
        progress("read HepMC3 (MB)", std::filesystem::file_size(p) >> 20, showProgress) {}

  void addRecord(HepMC3Input& part, TruthEvent truth, HepMC3Status status, long long number) {
    part.events.push_back(std::move(truth));
    part.status.push_back(status);
    part.eventNumbers.push_back(number);
    ++part.statusCounts[static_cast<std::size_t>(status)];
    ++totals.statusCounts[static_cast<std::size_t>(status)];
    ++records;
  }
  // An event line seen but never delivered: a row of its own with weight 0.
  void addIncomplete(HepMC3Input& part, long long number) {
    addRecord(part, TruthEvent{}, HepMC3Status::IncompleteEvent, number);
  }

  // Reads one record into part; false once the file has ended.
  bool readRecord(HepMC3Input& part);
  // After the last record: the lost records at the end, and the check of the rest of the file.
  void finish(HepMC3Input& part);
};

bool HepMC3Reader::Impl::readRecord(HepMC3Input& part) {
  GenEvent evt(HepMC3::Units::GEV, HepMC3::Units::MM);
  bool ok = false;
  try {
    ok = reader.read_event(evt);
  } catch (const std::exception& e) {  // HepMC3 throws on some inconsistent records
    throw InputError(
        fmt::format("{}: line {}: unreadable record: {}", path, buffer.lineNumber, e.what()));
  }
  if (!buffer.error.empty()) throw InputError(fmt::format("{}: {}", path, buffer.error));
  if (evt.particles().empty()) {
    // ReaderAscii clears an event whose lines fail to parse (a cut or corrupt record) and
    // reports the end of the stream as a failure. An event line seen but not delivered is a
    // record lost: keep a row for it with status IncompleteEvent (weight 0).
    const bool atEnd = reader.failed() || buffer.truncatedGzip;
    while (buffer.headers.size() > (atEnd ? 0u : 1u)) {
      addIncomplete(part, buffer.headers.front().number);
      buffer.headers.pop_front();
    }
    return !(atEnd || ++failuresInARow > 1000);
  }
  failuresInARow = 0;
  if (evt.momentum_unit() == HepMC3::Units::MEV) totals.convertedFromMeV = true;
  // GeV and mm: the units of the event file (positions of CM files are converted too).
  evt.set_units(HepMC3::Units::GEV, HepMC3::Units::MM);
  // Match the event with its header line to detect an event cut short.
  HepMC3Status truncated = HepMC3Status::Ok;
  while (!buffer.headers.empty() && buffer.headers.front().number != evt.event_number()) {
    addIncomplete(part, buffer.headers.front().number);
    buffer.headers.pop_front();
  }
  if (!buffer.headers.empty()) {
    const auto h = buffer.headers.front();
    buffer.headers.pop_front();
    if (evt.particles().size() < h.particles || evt.vertices().size() < h.vertices)
      truncated = HepMC3Status::IncompleteEvent;
  }
  EventResult r;
  if (truncated == HepMC3Status::Ok) {
    r = convert(evt);
  } else {
    r.status = truncated;
  }
  double w = evt.weights().empty() ? 1.0 : evt.weights().front();
  if (r.status == HepMC3Status::IncompleteEvent) w = 0;  // a lost record counts for nothing
  if (!std::isfinite(w)) {
    w = 0;
    r.status = HepMC3Status::BadMomentum;
    r.truth = TruthEvent{};
  }
  r.truth.weightPb = w;
  totals.sumOfWeights += w;
  if (firstEvent) {
    firstEvent = false;
    FourVector beams;
    int nBeams = 0;
    for (const auto& p : evt.particles())
      if (p->status() == 4 && finiteMomentum(p->momentum())) {
        beams += toFourVector(p->momentum());
        ++nBeams;
      }
    if (nBeams == 2) totals.sqrtSGeV = beams.m();
  }
  if (const auto cs = evt.cross_section()) {
    std::string text;
    cs->to_string(text);
    std::istringstream csIn(text);
    double xs = 0, err = 0;
    if (csIn >> xs >> err && std::isfinite(xs) && xs > 0) {
      totals.crossSectionPb = xs;
      totals.crossSectionErrorPb = std::isfinite(err) ? err : 0;
      totals.hasCrossSection = true;
    }
  }
  addRecord(part, std::move(r.truth), r.status, evt.event_number());
  const std::size_t mb = buffer.fileOffset() >> 20;
  if (mb > progressMb) {
    progress.advance(mb - progressMb);
    progressMb = mb;
  }
  return !(!ok && reader.failed());
}

void HepMC3Reader::Impl::finish(HepMC3Input& part) {
  progress.finish();
  if (reader.failed()) {
    for (const auto& h : buffer.headers) addIncomplete(part, h.number);
    buffer.headers.clear();
  }
  // HepMC3 stops at a record it cannot parse as if the file ended there: read what is left. That
  // also reaches the gzip checksum, the only place where damaged compressed data that still
  // inflates is detected.
  const std::size_t stoppedAtLine = buffer.lineNumber;
  std::size_t linesLeft = 0;
  std::string line;
  while (buffer.error.empty() && std::getline(stream, line)) {
    if (line.empty() || line.rfind("HepMC::Asciiv3-END_EVENT_LISTING", 0) == 0) continue;
    ++linesLeft;
  }
  if (!buffer.error.empty()) throw InputError(fmt::format("{}: {}", path, buffer.error));
  if (linesLeft > 0)
    throw InputError(fmt::format(
        "{}: the HepMC3 reader stopped at line {} with {} more lines in the file (a damaged "
        "record); {} events were read before it",
        path, stoppedAtLine, linesLeft, records));
  if (records == 0) throw InputError(fmt::format("{}: no events in the HepMC3 file", path));
}

HepMC3Reader::HepMC3Reader(const std::string& path, bool showProgress) {
  if (!std::filesystem::exists(path)) throw InputError(fmt::format("{}: no such file", path));
  checkHeader(path);
  HepMC3::Setup::set_print_warnings(false);
  HepMC3::Setup::set_print_errors(false);
  HepMC3::Setup::set_debug_level(-1);
  const StdoutSilencer silence;
  impl_ = std::make_unique<Impl>(path, showProgress);
}

HepMC3Reader::~HepMC3Reader() = default;

HepMC3Input HepMC3Reader::read(std::size_t maxRecords) {
  HepMC3Input part;
  if (impl_->ended) return part;
  const StdoutSilencer silence;
  while (part.events.size() < maxRecords) {
    if (!impl_->readRecord(part)) {
      impl_->ended = true;
      impl_->finish(part);
      break;
    }
  }
  if (!impl_->buffer.error.empty())
    throw InputError(fmt::format("{}: {}", impl_->path, impl_->buffer.error));
  const HepMC3Input& t = impl_->totals;
  part.sqrtSGeV = t.sqrtSGeV;
  part.crossSectionPb = t.crossSectionPb;
  part.crossSectionErrorPb = t.crossSectionErrorPb;
  part.hasCrossSection = t.hasCrossSection;
  part.sumOfWeights = t.sumOfWeights;
  part.convertedFromMeV = t.convertedFromMeV;
  return part;
}

bool HepMC3Reader::atEnd() const {
  return impl_->ended;
}

const HepMC3Input& HepMC3Reader::totals() const {
  return impl_->totals;
}

double HepMC3Reader::weightPb(double nominalWeight) const {
  const HepMC3Input& t = impl_->totals;
  if (t.hasCrossSection && t.sumOfWeights != 0)
    return t.crossSectionPb * nominalWeight / t.sumOfWeights;
  return nominalWeight;
}

HepMC3Input readHepMC3(const std::string& path, std::size_t maxEvents, bool showProgress) {
  HepMC3Reader reader(path, showProgress);
  HepMC3Input in =
      reader.read(maxEvents == 0 ? std::numeric_limits<std::size_t>::max() : maxEvents);
  // Normalisation (units of the schema's /weight: pb per event) with the records read.
  for (auto& event : in.events) event.weightPb = reader.weightPb(event.weightPb);
  return in;
}

}  // namespace nurec::io
