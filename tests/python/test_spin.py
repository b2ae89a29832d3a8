"""nurec.measure_spin equals `nurec spin` (its JSON report) on the same file (docs/python.md)."""

import json
import math
import os
import unittest

import common
import nurec

# Differ between runs by nature: the wall time and how the input was named.
VOLATILE = ("seconds", "file")


def stable(report):
    return {k: v for k, v in report.items() if k not in VOLATILE}


class SpinTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.events = nurec.read_event_file(common.EVENTS)
        cls.dir = common.test_dir("spin")

    def cli(self, name, *args):
        out = os.path.join(self.dir, name + ".json")
        common.run_nurec("spin", common.EVENTS, "--threads", 1, "--bootstrap", 20, "--out", out,
                         *args)
        with open(out) as f:
            return json.load(f)

    def assertFiniteParameters(self, subset, kind):
        values = [p["value"] for p in subset[kind]["parameters"].values()]
        self.assertEqual(len(values), 15)  # B+, B- and C
        self.assertTrue(all(math.isfinite(v) for v in values), values)

    def test_truth_calibrated_equals_cli(self):
        # The file has a detector selection: "auto" applies the shipped truth response.
        expected = self.cli("truth", "--method", "truth")
        with self.assertWarnsRegex(RuntimeWarning, "calibration: generator phase space"):
            report = nurec.measure_spin(self.events, "truth", bootstrap=20, threads=1)
        self.assertEqual(stable(report), stable(expected))
        self.assertTrue(report["calibration_source"].endswith("data/spin-response/truth.json"))
        combined = report["subsets"][0]
        self.assertEqual(combined["channel"], "combined")
        self.assertGreaterEqual(report["events"]["analysed"], 16)
        self.assertFiniteParameters(combined, "calibrated")
        concurrence = combined["calibrated"]["observables"]["concurrence"]
        self.assertTrue(math.isfinite(concurrence["value"]) and concurrence["stat"] > 0)

    def test_truth_all_events_raw_equals_cli(self):
        expected = self.cli("truth-all", "--method", "truth", "--all-events")
        with self.assertWarnsRegex(RuntimeWarning, "no detector selection"):
            report = nurec.measure_spin(self.events, "truth", all_events=True, bootstrap=20,
                                        threads=1)
        self.assertEqual(stable(report), stable(expected))
        self.assertEqual(report["calibration_source"], "")
        self.assertFiniteParameters(report["subsets"][0], "raw")

    def test_errors(self):
        with self.assertRaisesRegex(nurec.InputError, "nosuch"):
            nurec.measure_spin(self.events, "nosuch", calibration="none")
        with self.assertRaisesRegex(ValueError, "sideways"):
            nurec.measure_spin(self.events, "truth", lepton_analyser="sideways")


if __name__ == "__main__":
    unittest.main()
