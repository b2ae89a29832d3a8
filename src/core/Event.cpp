#include "nurec/core/Event.hpp"

namespace nurec {

const char* channelName(Channel c) {
  switch (c) {
    case Channel::PiPi:
      return "pipi";
    case Channel::EPi:
      return "epi";
    case Channel::MuPi:
      return "mupi";
    case Channel::PiRho:
      return "pirho";
    case Channel::ERho:
      return "erho";
    case Channel::MuRho:
      return "murho";
    case Channel::RhoRho:
      return "rhorho";
    case Channel::None:
      break;
  }
  return "none";
}

const char* channelLabel(Channel c) {
  switch (c) {
    case Channel::PiPi:
      return "ππ";
    case Channel::EPi:
      return "eπ";
    case Channel::MuPi:
      return "μπ";
    case Channel::PiRho:
      return "πρ";
    case Channel::ERho:
      return "eρ";
    case Channel::MuRho:
      return "μρ";
    case Channel::RhoRho:
      return "ρρ";
    case Channel::None:
      break;
  }
  return "none";
}

const char* decayModeName(DecayMode m) {
  switch (m) {
    case DecayMode::Pi:
      return "pi";
    case DecayMode::Rho:
      return "rho";
    case DecayMode::Electron:
      return "e";
    case DecayMode::Muon:
      return "mu";
    case DecayMode::Other:
      break;
  }
  return "other";
}

}  // namespace nurec
