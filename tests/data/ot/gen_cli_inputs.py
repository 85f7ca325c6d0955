#!/usr/bin/python3
"""Small .npy inputs for tests/cli/ot_*.sh (good and deliberately bad targets).
Run: /usr/bin/python3 tests/data/ot/gen_cli_inputs.py
"""
import os

import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20240607)


def save(name, a):
    np.save(os.path.join(here, name), a)


y = rng.standard_normal((20, 8)).astype(np.float32)
save("cli_y20x8.npy", y)
save("cli_y20x8_f64.npy", y.astype(np.float64))
save("cli_y1d.npy", np.array([[-2.0], [-1.1], [-0.7], [-0.1], [0.2], [0.9], [1.3], [2.5]],
                             dtype=np.float32))
save("cli_points_d8.npy", rng.standard_normal((50, 8)).astype(np.float32))
save("cli_points_d9.npy", rng.standard_normal((5, 9)).astype(np.float32))
save("cli_bad_int.npy", np.arange(12, dtype=np.int32).reshape(3, 4))
save("cli_bad_rank1.npy", np.arange(12, dtype=np.float32))
save("cli_bad_rank3.npy", np.zeros((2, 3, 4), dtype=np.float32))
save("cli_bad_empty.npy", np.zeros((0, 8), dtype=np.float32))
bad = y.copy()
bad[3, 5] = np.nan
save("cli_bad_nan.npy", bad)
save("cli_h_len19.npy", np.zeros(19))
