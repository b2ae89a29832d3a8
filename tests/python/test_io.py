"""nurec.read_event_file / write_event_file against h5py and the nurec binary (docs/python.md)."""

import os
import unittest

import h5py
import numpy as np

import common
import nurec


class ReadTest(common.ArrayTestCase):
    @classmethod
    def setUpClass(cls):
        cls.events = nurec.read_event_file(common.EVENTS)

    def test_datasets_equal_h5py(self):
        with h5py.File(common.EVENTS, "r") as f:
            names = []
            f.visititems(lambda n, o: names.append("/" + n) if isinstance(o, h5py.Dataset) else None)
            self.assertEqual(sorted(names), sorted(self.events))
            for name in names:
                self.assertArraysEqual(self.events[name], f[name][()], name)
            self.assertEqual(self.events.attrs["n_events"], f.attrs["n_events"])

    def test_shapes_types_attributes(self):
        n = self.events.n_events
        self.assertEqual(n, 2000)
        self.assertEqual(self.events["/reco/tau_p4"].shape, (n, 2, 4))
        self.assertEqual(self.events["/reco/tau_p4"].dtype, np.float64)
        self.assertEqual(self.events["/reco/channel"].dtype, np.int8)
        self.assertEqual(self.events["/reco/particles"].dtype, np.float32)
        self.assertEqual(self.events.attrs["nurec_schema"], "events")
        self.assertEqual(self.events.attrs["schema_version"], 2)
        self.assertIsInstance(self.events.attrs["seed"], int)

    def test_missing_file(self):
        with self.assertRaises(FileNotFoundError):
            nurec.read_event_file(os.path.join(common.WORK, "no-such-file.h5"))

    def test_not_hdf5(self):
        path = os.path.join(common.test_dir("io"), "notes.txt")
        with open(path, "w") as f:
            f.write("plain text\n")
        with self.assertRaisesRegex(nurec.InputError, "not an HDF5 file"):
            nurec.read_event_file(path)

    def test_exception_classes(self):
        self.assertTrue(issubclass(nurec.InputError, ValueError))
        self.assertTrue(issubclass(nurec.ConfigError, ValueError))
        self.assertTrue(issubclass(nurec.InputError, nurec.Error))
        self.assertTrue(issubclass(nurec.Error, RuntimeError))


class WriteTest(common.ArrayTestCase):
    @classmethod
    def setUpClass(cls):
        cls.events = nurec.read_event_file(common.EVENTS)
        cls.dir = common.test_dir("io_write")

    def path(self, name):
        path = os.path.join(self.dir, name)
        if os.path.exists(path):
            os.remove(path)
        return path

    def test_round_trip(self):
        path = self.path("copy.h5")
        nurec.write_event_file(path, self.events)
        back = nurec.read_event_file(path)
        self.assertEqual(sorted(back), sorted(self.events))
        for name in self.events:
            self.assertArraysEqual(back[name], self.events[name], name)
        self.assertEqual(back.attrs, self.events.attrs)
        self.assertEqual([f for f in os.listdir(self.dir) if ".tmp." in f], [])
        common.run_nurec("info", path)  # the command line reads it

    def test_subset_and_new_dataset(self):
        path = self.path("subset.h5")
        rows = np.arange(0, 2000, 7)
        # The file's attributes (n_events = 2000 among them) go along; the writer sets n_events.
        subset = nurec.EventData({k: v[rows] for k, v in self.events.items()}, self.events.attrs)
        subset["/analysis/my_flag"] = np.ones(len(rows), dtype=np.uint8)  # undocumented: any type
        subset.attrs.update(note="every 7th", cut=25.0)
        nurec.write_event_file(path, subset)
        back = nurec.read_event_file(path)
        self.assertEqual(back.n_events, len(rows))
        self.assertEqual(back.attrs["n_events"], len(rows))
        self.assertEqual(back.attrs["note"], "every 7th")
        self.assertEqual(back.attrs["cut"], 25.0)
        self.assertEqual(back.attrs["seed"], self.events.attrs["seed"])
        self.assertArraysEqual(back["/reco/met"], self.events["/reco/met"][rows])
        self.assertArraysEqual(back["/analysis/my_flag"], subset["/analysis/my_flag"])

    def test_plain_dict_gets_producer(self):
        path = self.path("plain.h5")
        nurec.write_event_file(path, {"/x/a": np.arange(5, dtype=np.int32)})
        back = nurec.read_event_file(path)
        self.assertTrue(back.attrs["producer"].startswith("nurec "))
        self.assertArraysEqual(back["/x/a"], np.arange(5, dtype=np.int32))

    def refused(self, datasets, pattern):
        path = self.path("refused.h5")
        with self.assertRaisesRegex(nurec.InputError, pattern):
            nurec.write_event_file(path, datasets)
        self.assertFalse(os.path.exists(path))

    def test_refuses_documented_dataset_of_other_type(self):
        d = dict(self.events)
        d["/reco/channel"] = d["/reco/channel"].astype(np.int64)
        self.refused(d, r"/reco/channel has element type int64.*int8")

    def test_refuses_wrong_shape(self):
        d = dict(self.events)
        d["/reco/met"] = np.zeros((self.events.n_events, 3))
        self.refused(d, r"/reco/met has shape")

    def test_refuses_truth_group_without_a_dataset(self):
        d = dict(self.events)
        del d["/truth/vis_p4"]
        self.refused(d, r"/truth/vis_p4 is missing")

    def test_refuses_non_finite_reco(self):
        d = dict(self.events)
        met = d["/reco/met"].copy()
        met[17, 0] = np.nan
        d["/reco/met"] = met
        self.refused(d, r"/reco/met has a non-finite value \(nan\) in event 17")

    def test_refuses_unstorable_types_and_layouts(self):
        n = self.events.n_events
        self.refused({"/x/flag": np.zeros(n, dtype=bool)}, r"/x/flag: element type bool")
        self.refused({"/x/h": np.zeros(n, dtype=np.float16)}, r"/x/h: element type float16")
        self.refused({"/x/a": np.zeros(n), "/x/b": np.zeros(n + 1)}, r"/x/b has 2001 rows")
        self.refused({"/x/s": np.float64(1.0)}, r"/x/s: a scalar")
        self.refused({"x": np.zeros(n)}, r"'x': names are HDF5 paths")

    def test_refuses_unstorable_attribute(self):
        with self.assertRaisesRegex(nurec.InputError, "attribute 'flag'"):
            nurec.write_event_file(self.path("attr.h5"), {"/x": np.zeros(3)}, {"flag": [1, 2]})


if __name__ == "__main__":
    unittest.main()
