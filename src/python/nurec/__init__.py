"""nurec: neutrino reconstruction in Z -> tau tau events and the tau-pair spin measurement.

Event files are dicts of numpy arrays keyed by dataset path ("/reco/met", "/nu/mmc/p4", ...) with
the shapes and element types of docs/data-format.md; four-momenta are (px, py, pz, E) in GeV.
The functions run nurec's C++ code, so results equal those of the `nurec` command line for the
same input and seed. Guide and reference: docs/python.md.
"""

import json as _json
import os as _os
import warnings as _warnings

# An installed package (P/lib/python3/dist-packages/nurec) finds the data and models installed
# beside it in P/share/nurec, as an installed binary does; an explicit NUREC_DATA_DIR wins.
_installed_data = _os.path.normpath(
    _os.path.join(_os.path.dirname(__file__), "..", "..", "..", "..", "share", "nurec")
)
if "NUREC_DATA_DIR" not in _os.environ and _os.path.isdir(_installed_data):
    _os.environ["NUREC_DATA_DIR"] = _installed_data

from . import _nurec  # noqa: E402 (after the data folder is known)
from ._nurec import ConfigError, Error, InputError

__version__ = _nurec.__version__

__all__ = [
    "EventData",
    "Error",
    "InputError",
    "ConfigError",
    "read_event_file",
    "write_event_file",
    "check_datasets",
    "reconstruct",
    "measure_spin",
    "default_model",
    "shipped_file",
    "CLASSICAL_METHODS",
]

#: The reconstruction methods besides "diffusion" (docs/reco.md).
CLASSICAL_METHODS = ("collinear", "mmc", "fastmtt", "ip")


class EventData(dict):
    """A dict dataset path -> numpy array with the file attributes in ``attrs``.

    Returned by read_event_file and reconstruct. Every function of nurec also takes a plain dict
    (then with no attributes unless passed explicitly). ``update`` with another EventData also
    merges its ``attrs``, so ``events.update(nurec.reconstruct(events, "mmc"))`` keeps the
    reconstruction's attributes (e.g. the diffusion model label the spin calibration checks).
    """

    def __init__(self, datasets=(), attrs=None):
        super().__init__(datasets)
        #: File attributes: name -> str, int or float (docs/data-format.md "File attributes").
        self.attrs = dict(attrs or {})

    def update(self, other=(), **kwargs):
        """dict.update, merging ``other.attrs`` into ``attrs`` when ``other`` has them."""
        super().update(other, **kwargs)
        if hasattr(other, "attrs"):
            self.attrs.update(other.attrs)

    def copy(self):
        """A shallow copy (the arrays are shared) with a copy of ``attrs``."""
        return EventData(self, self.attrs)

    @property
    def n_events(self):
        """Number of events (rows): the first dimension of every dataset; 0 when empty."""
        for array in self.values():
            return len(array)
        return 0

    def __repr__(self):
        return "EventData({} events, {} datasets, {} attributes)".format(
            self.n_events, len(self), len(self.attrs)
        )


def _attributes(datasets, attributes):
    if attributes is not None:
        return dict(attributes)
    return dict(getattr(datasets, "attrs", {}))


def read_event_file(path):
    """Reads a nurec event file (HDF5, docs/data-format.md).

    Args:
        path: the file (str or os.PathLike).

    Returns:
        EventData: dataset path -> numpy array of shape (n_events, ...) and the stored element
        type (float64, float32, int8, uint8, int32, int64); file attributes in ``.attrs``
        (including nurec_schema, schema_version and n_events).

    Raises:
        FileNotFoundError: no such file.
        InputError (a ValueError): not HDF5, damaged, another schema or version, inconsistent row
            counts; the message names the file and dataset.
    """
    path = _os.fspath(path)
    if not _os.path.exists(path):
        raise FileNotFoundError(2, "no such file", path)
    datasets, attrs = _nurec.read_event_file(path)
    return EventData(datasets, attrs)


def write_event_file(path, datasets, attributes=None):
    """Writes an event file through nurec's writer.

    The file is written under a temporary name beside ``path`` and renamed when complete, so a
    failure never leaves a half-written file under the final name; the parent folder is created.
    nurec_schema, schema_version and n_events are set by the writer; "producer" is set when
    absent.

    Args:
        path: the output file.
        datasets: dict dataset path -> array (numpy.asarray is applied); every array has the
            events along its first axis.
        attributes: dict name -> str, int or float; default: ``datasets.attrs`` if present.

    Raises:
        InputError (a ValueError): names not starting with "/", arrays without an event axis,
            different row counts, element types the file cannot store (bool, float16, ...),
            documented datasets with another element type than docs/data-format.md gives (e.g.
            int64 for /reco/channel, which is int8), or shapes and values nurec's readers refuse
            (a missing /truth dataset of a truth group, NaN in /reco, ...).
        Error (a RuntimeError): the file could not be written.
    """
    _nurec.write_event_file(_os.fspath(path), datasets, _attributes(datasets, attributes))


def check_datasets(datasets, attributes=None):
    """Raises InputError (a ValueError) where write_event_file would refuse the datasets."""
    _nurec.check_datasets(datasets, _attributes(datasets, attributes))


def reconstruct(
    datasets,
    method,
    *,
    seed=1,
    threads=0,
    progress=False,
    attributes=None,
    # diffusion
    model=None,
    candidates=10,
    steps=0,
    sampler=None,
    eta=None,
    selection="median",
    batch_events=512,
    method_name="diffusion",
    # classical methods
    mmc_points=None,
    mmc_scan="random",
    mmc_estimator="mlm",
    mmc_weight="kinematic",
    mmc_tau_probability=False,
    mmc_pdfs=None,
    met_k=None,
    met_floor=None,
    fastmtt_grid=None,
    min_abs_sin_dphi=None,
):
    """Reconstructs the neutrinos of every event, as `nurec reconstruct` does (docs/reco.md).

    Args:
        datasets: the events (e.g. from read_event_file); needs the /reco group of
            `nurec simulate` ("ip" also /reco/track_ip; "diffusion" also /reco/particles).
        method: "collinear", "mmc", "fastmtt", "ip" or "diffusion".
        seed: run seed of the per-event random streams (MMC scan, diffusion noise); results for a
            seed equal those of `nurec reconstruct --seed`.
        threads: worker threads, 0 = all cores; results do not depend on it.
        progress: progress bar on stderr (classical methods).
        attributes: file attributes; default ``datasets.attrs`` if present.
        model: diffusion model directory; None = the shipped default (default_model()).
        candidates: diffusion samples per event (K).
        steps: sampler steps, 0 = the model's default.
        sampler: "ddim" or "dpm++2m"; None = the model's default.
        eta: DDIM eta in [0, 1]; None = the model's default.
        selection: how the estimate is chosen among the candidates ("median").
        batch_events: events per encoder/sampler batch (memory, not results).
        method_name: writes /nu/<method_name>/ for diffusion (to compare variants).
        mmc_points: MMC scan points per event; None = the library default.
        mmc_scan: "random" or "markov".
        mmc_estimator: "mlm", "maxw" or "mlnu3p" (the m_tautau written by MMC).
        mmc_weight: "kinematic" or "angle-table".
        mmc_tau_probability: with angle-table, also weight by the decay x-distribution.
        mmc_pdfs: MMC likelihood table; None = the shipped one.
        met_k: MET resolution stochastic term k in GeV^1/2 (sigma = max(floor, k sqrt(sum E_T))).
        met_floor: MET resolution floor in GeV.
        fastmtt_grid: FastMTT grid points per x axis.
        min_abs_sin_dphi: collinear: minimum |sin dphi(vis1, vis2)|.

    Returns:
        EventData with the new datasets: /nu/<method>/p4 (N, 2, 4) float64 in GeV (neutrino
        system per tau, index 0 = tau+; zeros where status != 0), /nu/<method>/status (N,) int8
        (0 ok; codes in docs/reco.md and docs/ml.md), /nu/<method>/mtautau (N,) float64 GeV for
        the classical methods, /nu/<method>/candidates (N, K, 2, 3) float32 GeV for diffusion;
        ``.attrs`` holds the attributes the reconstruction adds (reco_<method>_config,
        nu_<method>_model).

    Raises:
        ConfigError (a ValueError): unknown method or option value.
        InputError (a ValueError): a missing or malformed /reco dataset (named in the message),
            a damaged model.
    """
    options = {
        "seed": seed,
        "threads": threads,
        "progress": progress,
        "model": None if model is None else _os.fspath(model),
        "candidates": candidates,
        "steps": steps,
        "sampler": sampler,
        "eta": eta,
        "selection": selection,
        "batch_events": batch_events,
        "method_name": method_name,
        "mmc_points": mmc_points,
        "mmc_scan": mmc_scan,
        "mmc_estimator": mmc_estimator,
        "mmc_weight": mmc_weight,
        "mmc_tau_probability": mmc_tau_probability,
        "mmc_pdfs": None if mmc_pdfs is None else _os.fspath(mmc_pdfs),
        "met_k": met_k,
        "met_floor": met_floor,
        "fastmtt_grid": fastmtt_grid,
        "min_abs_sin_dphi": min_abs_sin_dphi,
    }
    nu, attrs = _nurec.reconstruct(
        datasets, _attributes(datasets, attributes), method, options
    )
    return EventData(nu, attrs)


def measure_spin(
    datasets,
    method="truth",
    *,
    calibration="auto",
    lumi=None,
    lepton_analyser="energy",
    rho_analyser="polarimeter",
    candidates="auto",
    all_events=False,
    mass_constraint=True,
    bootstrap=None,
    seed=None,
    closure_test=False,
    k_factor=None,
    efficiency=None,
    background_per_fb=None,
    signal_per_fb=None,
    toys=None,
    candidate_replicas=None,
    variations=None,
    threads=0,
    progress=False,
    attributes=None,
):
    """Measures the tau-pair spin state, as `nurec spin` does (docs/quantum.md).

    The defaults are those of `nurec spin`, including the calibration: "auto" applies the shipped
    response data/spin-response/<method>.json to events with a detector selection (/reco/pass_sr)
    and leaves events without one uncalibrated (a RuntimeWarning says so, as the command prints
    it).

    Args:
        datasets: the events; "truth" needs /truth, other methods /reco and /nu/<method>.
        method: "truth", "collinear", "mmc", "fastmtt", "ip", "diffusion", ...
        calibration: "auto", "shipped", "none", a response file of `nurec calibrate`, or an
            independent event sample to fit the response on.
        lumi: integrated luminosity in fb^-1 of the quoted significance (None: 140).
        lepton_analyser: "energy", "direction" or "neutrino" (truth only).
        rho_analyser: "polarimeter" or "visible".
        candidates: "auto", "estimate" or "posterior-mean" (methods with candidates).
        all_events: use every event, not only /reco/pass_sr = 1.
        mass_constraint: rebuild the taus with the tau mass imposed.
        bootstrap: bootstrap replicas (0: analytic errors only); None: 200.
        seed: seed of the bootstrap and re-sampling; None: the library default.
        closure_test: even/odd diagnostic on the input's own spin truth.
        k_factor, efficiency, background_per_fb, signal_per_fb, toys: significance inputs
            (None: the library defaults of docs/quantum.md).
        candidate_replicas: re-samplings of /nu/<method>/candidates.
        variations: list of /nu/<name> reconstructions used as systematic variations
            (None: every <method>_<tag> in the datasets).
        threads: worker threads, 0 = all cores.
        progress: progress bar on stderr.
        attributes: file attributes; default ``datasets.attrs`` if present.

    Returns:
        dict: the report `nurec spin` writes as JSON (per subset "combined" and channel: the 15
        spin-density parameters B+, B-, C with statistical and calibration errors, raw and
        calibrated; concurrence, Bell and entanglement observables; significance vs luminosity;
        systematics; flags).

    Raises:
        ConfigError, InputError (ValueErrors): unknown method or analyser, missing datasets,
            a response that does not fit the measurement, too few events.
    """
    options = {
        "calibration": _os.fspath(calibration),
        "lumi": lumi,
        "lepton_analyser": lepton_analyser,
        "rho_analyser": rho_analyser,
        "candidates": candidates,
        "all_events": all_events,
        "mass_constraint": mass_constraint,
        "bootstrap": bootstrap,
        "seed": seed,
        "closure_test": closure_test,
        "k_factor": k_factor,
        "efficiency": efficiency,
        "background_per_fb": background_per_fb,
        "signal_per_fb": signal_per_fb,
        "toys": toys,
        "candidate_replicas": candidate_replicas,
        "variations": None if variations is None else list(variations),
        "threads": threads,
        "progress": progress,
    }
    report, note, warnings = _nurec.measure_spin(
        datasets, _attributes(datasets, attributes), method, options
    )
    if note:
        _warnings.warn(note, RuntimeWarning, stacklevel=2)
    for w in warnings:
        _warnings.warn("calibration: " + w, RuntimeWarning, stacklevel=2)
    return _json.loads(report)


def default_model():
    """Directory of the shipped diffusion model that reconstruct uses by default."""
    return _nurec.shipped_file(_nurec.DEFAULT_MODEL)


def shipped_file(relative):
    """Path of a file nurec ships, e.g. "data/spin-response/mmc.json" ($NUREC_DATA_DIR, the
    installation, then the source tree)."""
    return _nurec.shipped_file(relative)
