#pragma once
// The t tbar truth in the event file (schema version 2, process "ttbar-semilep"; dataset names
// and shapes as in docs/data-format.md "t tbar").
#include <map>
#include <string>
#include <vector>

#include "nurec/generator/ttbar/TTbarGenerator.hpp"
#include "nurec/io/EventFile.hpp"
#include "nurec/io/EventTable.hpp"

namespace nurec::generator::ttbar {

inline constexpr const char* kProcessName = io::kTTbarProcess;

namespace ds {
inline constexpr const char* partons = "/truth/partons";  // (N,11,5) f8: (M, E, px, py, pz) GeV
inline constexpr const char* leptonPdg = "/truth/lepton_pdg";      // (N) i4
inline constexpr const char* hadronicPdg = "/truth/hadronic_pdg";  // (N,2) i4: q, qbar'
inline constexpr const char* initialPdg = "/truth/parton_pdg";     // (N,2) i4: beam A, B partons
inline constexpr const char* initialX = "/truth/parton_x";         // (N,2)
inline constexpr const char* scale = "/truth/scale";               // (N) mu_F = mu_R [GeV]
inline constexpr const char* spinC = "/truth/spin_c";              // (N,3,3) production C
// Initial-state emissions (px, py, y), zero-padded to the widest event, and their count; the
// primordial kT (px, py). The t tbar pT is minus their sum (docs/ttbar.md).
inline constexpr const char* isrEmissions = "/truth/isr_emissions";         // (N,R,3) GeV, GeV, -
inline constexpr const char* isrCount = "/truth/isr_count";                 // (N) i4
inline constexpr const char* isrPrimordialKt = "/truth/isr_primordial_kt";  // (N,2) GeV
}  // namespace ds

// Writes the /truth datasets of the events (not /weight).
void putTTbarTruth(io::EventTable& table, const std::vector<TTbarEvent>& events);
// Reads them back; InputError naming the file and dataset on a missing column or wrong shape.
std::vector<TTbarEvent> getTTbarTruth(const io::EventTable& table);

// File attributes of a generated sample: process, seed, sqrt_s, cross sections, config, producer.
std::map<std::string, io::AttributeValue> ttbarFileAttributes(const TTbarConfig& config,
                                                              const TTbarSummary& summary);

}  // namespace nurec::generator::ttbar
