#pragma once
// Configuration of the fast detector simulation, the triggers and the signal region
// (docs/detector.md "Detector card": Delphes ATLAS card resolutions, ATLAS Run-2 trigger,
// identification and isolation efficiencies, optional pile-up). A plain struct: fill it (or load
// it from a YAML card such as configs/detector_atlas.yaml), call validate() once, then pass it to
// simulateDetector. Every number is in GeV (energies, momenta) or is dimensionless.
#include <string>

namespace nurec::detector {

// Efficiency as a step function of pT in two |eta| regions (docs/physics.md section 10 "tracking
// eff."): low for ptMin < pT <= ptLow, mid for ptLow < pT <= ptHigh, high above ptHigh; zero below
// ptMin and outside |eta| <= etaMax. Central region |eta| <= etaCentral, forward etaCentral <
// |eta|.
struct StepEfficiency {
  double ptMinGeV = 0.1;
  double ptLowGeV = 1.0;
  double ptHighGeV = 1e30;
  double etaCentral = 1.5;
  double etaMax = 2.5;
  double centralLow = 0, centralMid = 0, centralHigh = 0;
  double forwardLow = 0, forwardMid = 0, forwardHigh = 0;
  double operator()(double ptGeV, double absEta) const;
  void validate(const std::string& name) const;
};

// Track transverse-momentum resolution sigma(pT)/pT = sqrt(a^2 + (b pT)^2) in three |eta| bins
// (<= 0.5, 0.5-1.5, 1.5-2.5); pT is smeared log-normally with the direction kept (section 10).
struct TrackResolution {
  double a[3] = {0, 0, 0};
  double bPerGeV[3] = {0, 0, 0};
  double relative(double ptGeV, double absEta) const;  // sigma(pT)/pT
  void validate(const std::string& name) const;
};

// Trigger-leg efficiency as a function of the offline pT of the object (docs/detector.md
// "Candidates, channels, triggers, signal region"): plateau x (1 + erf((pT - threshold - offset) /
// (sqrt(2) width))) / 2, with the plateau of the central (|eta| <= etaCentral) or forward region.
// Width 0 is a step at threshold + offset.
struct TriggerTurnOn {
  double offsetGeV = 0;  // 50 % point above the trigger threshold (offline vs online scale)
  double widthGeV = 0;   // Gaussian width of the turn-on
  double plateauCentral = 1, plateauForward = 1;
  double etaCentral = 2.5;
  double operator()(double ptGeV, double thresholdGeV, double absEta) const;
  void validate(const std::string& name) const;
};

// Calorimeter energy resolution sigma(E) = sqrt((c E)^2 + s^2 E + n^2) [GeV].
struct CaloResolution {
  double constant = 0;    // c
  double stochastic = 0;  // s [GeV^1/2]
  double noiseGeV = 0;    // n [GeV]
  double sigma(double eGeV) const;
  void validate(const std::string& name) const;
};

struct DetectorConfig {
  // --- tracking (charged hadrons, electrons, muons) ---
  StepEfficiency pionTrackEfficiency{0.1, 1.0, 1e30, 1.5, 2.5, 0.70, 0.95, 0.95, 0.60, 0.85, 0.85};
  StepEfficiency electronTrackEfficiency{0.1,  1.0,  100.0, 1.5,  2.5, 0.73,
                                         0.95, 0.99, 0.50,  0.83, 0.90};
  StepEfficiency muonTrackEfficiency{0.1, 1.0, 1e30, 1.5, 2.5, 0.75, 0.99, 0.99, 0.70, 0.98, 0.98};
  TrackResolution pionTrackResolution{{0.06, 0.10, 0.25}, {1.3e-3, 1.7e-3, 3.1e-3}};
  TrackResolution electronTrackResolution{{0.03, 0.05, 0.15}, {1.3e-3, 1.7e-3, 3.1e-3}};
  TrackResolution muonTrackResolution{{0.01, 0.015, 0.025}, {1.0e-4, 1.5e-4, 3.5e-4}};

  // --- lepton identification and isolation (docs/detector.md: ATLAS Run-2 working points) ---
  double leptonIdPtMinGeV = 10;
  // Electron: likelihood "Tight" identification x reconstruction; muon: "Medium" identification
  // x reconstruction. |eta| <= 1.5 and beyond.
  double electronIdEffCentral = 0.80, electronIdEffForward = 0.76;
  double muonIdEffCentral = 0.96, muonIdEffForward = 0.96;
  double muonEtaMax = 2.7;  // muon id coverage; the track (needed for pT) ends at 2.5
  // Isolation: sum pT of the visible particles (pT > isolationPtMinGeV) in a cone of
  // isolationDeltaR around the lepton, over the lepton pT, below these values ("FixedCutTight"-like
  // cone 0.2 with 6 %); pile-up enters only through the charged particles that vertex association
  // fails to remove (pileup below).
  double isolationDeltaR = 0.2;
  double isolationPtMinGeV = 0.5;
  double electronIsolationMax = 0.06;  // sum pT(cone)/pT(e)
  double muonIsolationMax = 0.06;
  // Electron energy: inverse-variance combination of the ECAL energy (ecal below) and the track
  // momentum (electronTrackResolution); direction from truth.

  // --- calorimeters ---
  CaloResolution ecal{0.0017, 0.101, 0};  // |eta| < 3.2
  double ecalEtaMax = 3.2;
  CaloResolution hcalBarrel{0.0302, 0.5205, 1.59};  // |eta| <= 1.7
  CaloResolution hcalEndcap{0.050, 0.706, 0};       // 1.7 < |eta| <= 3.2
  // 3.2 < |eta| <= 4.9: the card gives no number; ATLAS design FCal 100 %/sqrt(E) (+) 10 %.
  CaloResolution hcalForward{0.10, 1.0, 0};
  double hcalBarrelEtaMax = 1.7;
  double hcalEndcapEtaMax = 3.2;
  double caloEtaMax = 4.9;

  // --- hadronic taus (section 10 "tau tag" and "Hadronic taus") ---
  double tauPtMinGeV = 20;  // visible pT of a hadronic tau candidate
  double tauEtaMax = 2.5;
  // Identification working point (ATLAS RNN "Medium": 75 % for true 1-prong taus) for decays
  // without (1p0n) and with (1pXn) neutral EM energy, times the electron veto (loose, 95 %).
  double tauIdEff1p0n = 0.75;
  double tauIdEff1pXn = 0.75;
  double tauElectronVetoEff = 0.95;
  double tauTrackPtMinGeV = 1.0;  // tracks counted as prongs
  // pi0 cluster: all neutral EM energy of the tau (pi0s, photons) forms ONE ECAL cluster at its
  // direction; it is found with this efficiency when its smeared E_T is above the threshold.
  // A lost cluster turns a rho into a pi; a pi 2pi0 decay becomes a rho.
  double pi0ClusterEtMinGeV = 1.5;
  double pi0ClusterEfficiency = 0.95;
  // A decay with two or more pi0s (h+- 2pi0, "1pXn") is recognised as such, and so leaves the
  // pi/rho channels, with this probability (a modelling choice: ATLAS' decay-mode classification
  // separates 1pXn from 1p1n about half of the time); otherwise its pi0s merge into one cluster
  // and it is reconstructed as a rho.
  double multiPi0ResolvedProbability = 0.5;
  // A fake pi0 cluster split off the charged pion's shower: with this probability per 1-prong
  // tau without a real cluster, a cluster carrying a fraction U(min, max) of the pion energy
  // appears next to the track (the track keeps its momentum): a pi becomes a rho.
  double fakePi0Probability = 0.08;
  double fakePi0FractionMin = 0.10, fakePi0FractionMax = 0.35;
  double fakePi0DeltaR = 0.05;

  // --- jets (anti-kt R = 0.4 with FastJet on the particles not from the taus) ---
  double jetRadius = 0.4;
  double jetPtMinGeV = 20;
  double jetEtaMax = 4.5;
  // Jet energy smeared with the HCAL resolution of its |eta| region (no JES: the clustered
  // particles are truth particles, the response is 1).

  // --- missing transverse momentum ---
  // MET = -(sum of reconstructed taus/leptons and jets + soft term). Soft term: the visible
  // particles not used by any object (|eta| < caloEtaMax, muons only if tracked) times
  // metSoftResponse, plus Gaussian noise sigma(x) = sigma(y) = metResolutionK sqrt(sum E_T) with
  // sum E_T the scalar sum over objects and soft term (docs/physics.md: k ~ 0.5 GeV^1/2).
  double metSoftResponse = 1.0;
  double metResolutionK = 0.5;  // GeV^1/2

  // --- pile-up overlay (docs/detector.md "Pile-up"; off by default) ---
  // Poisson(meanInteractions) minimum-bias interactions per event, each a Poisson number of soft
  // particles (pT = ptMin + exponential(ptMean), flat in |eta| < maxAbsEta, balanced in the
  // transverse plane). They enter the jets (with a rho x area subtraction), and, as far as they
  // are charged, inside the tracker and not removed by vertex association (trackRejection), the
  // lepton isolation and the MET soft term.
  double pileupMeanInteractions = 0;
  double pileupParticlesPerInteraction = 35;
  double pileupPtMinGeV = 0.4;
  double pileupPtMeanGeV = 0.6;
  double pileupMaxAbsEta = 5.0;
  double pileupTrackRejection = 0.95;

  // --- vertexing and track impact parameters (docs/detector.md "Impact parameters") ---
  // Used only for events with generator positions (/truth/tau_decay_vertex). Reconstructed
  // primary vertex: Gaussian around the true one. Track d0, z0: Gaussian with sigma = a (+) b /
  // (pT sqrt(sin theta)), ATLAS Run-2 (with the insertable B-layer) sizes.
  double primaryVertexSigmaTransverseMm = 0.012;
  double primaryVertexSigmaLongitudinalMm = 0.030;
  double d0ResolutionAMm = 0.010, d0ResolutionBMmGeV = 0.075;
  double z0ResolutionAMm = 0.040, z0ResolutionBMmGeV = 0.120;

  // --- triggers (docs/physics.md section 10, quoted analysis set-up) ---
  // Online thresholds; each leg fires with the efficiency of its turn-on at the offline pT.
  double diTauLeadPtGeV = 35, diTauSubleadPtGeV = 25;
  double eTauElectronPtGeV = 17, eTauTauPtGeV = 25, singleElectronPtGeV = 26;
  double muTauMuonPtGeV = 14, muTauTauPtGeV = 25, singleMuonPtGeV = 26;
  // Turn-ons relative to offline-identified objects (ATLAS Run-2 trigger performance).
  TriggerTurnOn tauTrigger{3.0, 3.0, 0.90, 0.90, 2.5};
  TriggerTurnOn electronTrigger{1.0, 1.5, 0.95, 0.95, 2.5};
  TriggerTurnOn muonTrigger{1.0, 1.0, 0.70, 0.88, 1.05};

  // --- signal-region acceptance ---
  double leptonEtaMax = 2.5;  // muons (and hadronic taus: tauEtaMax)
  double electronEtaMax = 2.47;
  double electronCrackEtaMin = 1.37, electronCrackEtaMax = 1.52;
  bool requireOppositeCharge = true;

  // Throws nurec::ConfigError naming the first invalid setting.
  void validate() const;
  // The configuration as YAML text (the full card; loadDetectorConfig reads it back exactly).
  std::string toYaml() const;
};

// Reads a YAML card; keys absent from it keep their defaults, unknown keys are an error
// (ConfigError naming the file and key). The result is validated.
DetectorConfig loadDetectorConfig(const std::string& path);
DetectorConfig detectorConfigFromYaml(const std::string& yamlText, const std::string& source);

}  // namespace nurec::detector
