"""nurec.reconstruct equals `nurec reconstruct` on the same file and seed (docs/python.md)."""

import os
import unittest

import numpy as np

import common
import nurec


class ReconstructTest(common.ArrayTestCase):
    @classmethod
    def setUpClass(cls):
        cls.events = nurec.read_event_file(common.EVENTS)
        cls.dir = common.test_dir("reconstruct")

    def cli(self, method, *args):
        out = os.path.join(self.dir, method + ".h5")
        common.run_nurec("reconstruct", common.EVENTS, "--method", method, "--threads", 1,
                         "--out", out, *args)
        return nurec.read_event_file(out)

    def assertSameNu(self, nu, file, method):
        prefix = "/nu/{}/".format(method)
        expected = {k: v for k, v in file.items() if k.startswith(prefix)}
        self.assertEqual(sorted(nu), sorted(expected))
        for name in expected:
            self.assertArraysEqual(nu[name], expected[name], name)
        ok = nu[prefix + "status"] == 0
        self.assertGreater(ok.sum(), 50)
        self.assertTrue(np.all(np.isfinite(nu[prefix + "p4"])))

    def test_mmc_equals_cli(self):
        file = self.cli("mmc", "--seed", 3)
        nu = nurec.reconstruct(self.events, "mmc", seed=3, threads=1)
        self.assertSameNu(nu, file, "mmc")
        self.assertEqual(nu.attrs["reco_mmc_config"], file.attrs["reco_mmc_config"])
        # The seed reaches the scan: another seed gives other estimates.
        other = nurec.reconstruct(self.events, "mmc", seed=4, threads=1)
        self.assertFalse(np.array_equal(other["/nu/mmc/p4"], nu["/nu/mmc/p4"]))

    def test_collinear_and_fastmtt_equal_cli(self):
        for method in ("collinear", "fastmtt"):
            with self.subTest(method=method):
                nu = nurec.reconstruct(dict(self.events), method, threads=1)  # a plain dict
                self.assertSameNu(nu, self.cli(method), method)

    def test_diffusion_equals_cli(self):
        model = nurec.default_model()
        self.assertTrue(os.path.exists(os.path.join(model, "model.pt")), model)
        file = self.cli("diffusion", "--model", model, "--candidates", 3, "--seed", 5)
        nu = nurec.reconstruct(self.events, "diffusion", candidates=3, seed=5, threads=1)
        self.assertSameNu(nu, file, "diffusion")
        self.assertEqual(nu["/nu/diffusion/candidates"].shape, (self.events.n_events, 3, 2, 3))
        self.assertEqual(nu.attrs["nu_diffusion_model"], file.attrs["nu_diffusion_model"])

    def test_result_merges_into_events(self):
        events = self.events.copy()
        events.update(nurec.reconstruct(events, "collinear"))
        self.assertIn("/nu/collinear/p4", events)
        self.assertIn("reco_collinear_config", events.attrs)
        self.assertNotIn("/nu/collinear/p4", self.events)

    def test_missing_reco_dataset(self):
        # The diffusion model reads the point cloud (which holds the MET), MMC the /reco group.
        for method, dataset in (("mmc", "/reco/met"), ("diffusion", "/reco/particles")):
            with self.subTest(method=method):
                d = dict(self.events)
                del d[dataset]
                with self.assertRaisesRegex(nurec.InputError, f"dataset {dataset} is missing"):
                    nurec.reconstruct(d, method, candidates=2, threads=1)

    def test_bad_method_and_option(self):
        with self.assertRaisesRegex(nurec.ConfigError, "unknown method 'bogus'"):
            nurec.reconstruct(self.events, "bogus")
        with self.assertRaisesRegex(ValueError, "mmc_scan 'sideways'"):
            nurec.reconstruct(self.events, "mmc", mmc_scan="sideways")
        with self.assertRaises(TypeError):
            nurec.reconstruct(self.events, "mmc", no_such_option=1)


if __name__ == "__main__":
    unittest.main()
