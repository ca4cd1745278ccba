"""Membership functions: values at key points, NaN, shapes and parameter checks."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ktrdr.compute.fuzzy import gaussian, membership, trapezoidal, triangular
from ktrdr.research.strategies.schema import MembershipFunction

NAN = np.nan


class TestTriangular:
    def test_key_points(self):
        x = [-5, 0, 2.5, 5, 7.5, 10, 15]
        np.testing.assert_allclose(triangular(x, 0, 5, 10), [0, 0, 0.5, 1, 0.5, 0, 0])

    def test_asymmetric(self):
        x = [20, 30, 35, 40, 60, 70]
        np.testing.assert_allclose(triangular(x, 30, 40, 70), [0, 0, 0.5, 1, 1 / 3, 0])

    def test_vertical_left_edge(self):
        np.testing.assert_allclose(triangular([-0.001, 0, 5, 10], 0, 0, 10), [0, 1, 0.5, 0])

    def test_vertical_right_edge(self):
        np.testing.assert_allclose(triangular([0, 5, 10, 10.001], 0, 10, 10), [0, 0.5, 1, 0])


class TestTrapezoidal:
    def test_key_points(self):
        x = [10, 20, 25, 30, 45, 60, 80, 100, 120]
        np.testing.assert_allclose(trapezoidal(x, 20, 30, 60, 100), [0, 0, 0.5, 1, 1, 1, 0.5, 0, 0])

    def test_left_shoulder(self):
        # [0, 0, 15, 25] is "weak" in stoch_adx_breakout: full membership at 0.
        x = [-1, 0, 10, 15, 20, 25, 30]
        np.testing.assert_allclose(trapezoidal(x, 0, 0, 15, 25), [0, 1, 1, 1, 0.5, 0, 0])

    def test_right_shoulder(self):
        x = [0, 5, 10, 20, 20.5]
        np.testing.assert_allclose(trapezoidal(x, 0, 10, 20, 20), [0, 0.5, 1, 1, 0])

    def test_rectangle(self):
        np.testing.assert_allclose(trapezoidal([-1, 0, 0.5, 1, 2], 0, 0, 1, 1), [0, 1, 1, 1, 0])

    def test_equal_middle_is_a_triangle(self):
        x = np.linspace(-5, 25, 301)
        np.testing.assert_allclose(trapezoidal(x, 0, 10, 10, 20), triangular(x, 0, 10, 20))


class TestGaussian:
    def test_key_points(self):
        y = gaussian([1.0, 3.0, -1.0, 5.0], mean=1.0, sigma=2.0)
        np.testing.assert_allclose(y, [1, math.exp(-0.5), math.exp(-0.5), math.exp(-2)])

    def test_far_values_are_small_but_in_range(self):
        y = gaussian([1e6, -1e6, np.inf, -np.inf], 0.0, 1.0)
        assert ((y >= 0) & (y < 1e-12)).all()


def _all_functions():
    return [
        lambda x: triangular(x, 0, 5, 10),
        lambda x: triangular(x, 0, 0, 10),
        lambda x: trapezoidal(x, 0, 0, 15, 25),
        lambda x: trapezoidal(x, -1, -0.5, 0, 0.3),
        lambda x: gaussian(x, 0.0, 0.5),
    ]


@pytest.mark.parametrize("fn", _all_functions())
def test_nan_in_nan_out(fn):
    y = fn(np.array([NAN, 0.0, NAN, 5.0]))
    assert np.isnan(y[[0, 2]]).all()
    assert np.isfinite(y[[1, 3]]).all()


@pytest.mark.parametrize("fn", _all_functions())
def test_values_stay_in_unit_interval(fn):
    y = fn(np.linspace(-50, 50, 10_001))
    assert y.dtype == np.float64
    assert ((y >= 0) & (y <= 1)).all()


@pytest.mark.parametrize("fn", _all_functions())
def test_shapes_are_preserved(fn):
    grid = np.arange(-6.0, 18.0).reshape(4, 6)
    y = fn(grid)
    assert y.shape == (4, 6)
    np.testing.assert_array_equal(y.ravel(), fn(grid.ravel()))
    scalar = fn(2.0)
    assert isinstance(scalar, np.ndarray)
    assert scalar.shape == ()
    np.testing.assert_array_equal(fn([1, 2, 3]), fn(np.array([1.0, 2.0, 3.0])))


def test_input_is_not_modified():
    x = np.array([NAN, 1.0, 20.0])
    trapezoidal(x, 0, 0, 15, 25)
    triangular(x, 0, 5, 10)
    np.testing.assert_array_equal(x, [NAN, 1.0, 20.0])


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: triangular(0, 5, 0, 10), "triangular: expected a <= b <= c"),
        (lambda: triangular(0, 0, 10, 5), "triangular: expected a <= b <= c"),
        (lambda: triangular(0, 3, 3, 3), "with a < c"),
        (lambda: triangular(0, NAN, 1, 2), "triangular: parameter a must be a finite"),
        (lambda: triangular(0, 0, 1, np.inf), "triangular: parameter c must be a finite"),
        (lambda: trapezoidal(0, 0, 5, 3, 10), "trapezoidal: expected a <= b <= c <= d"),
        (lambda: trapezoidal(0, 2, 2, 2, 2), "with a < d"),
        (lambda: trapezoidal(0, -np.inf, 0, 1, 2), "trapezoidal: parameter a must be a finite"),
        (lambda: gaussian(0, 0.0, 0.0), "gaussian: expected sigma > 0"),
        (lambda: gaussian(0, 0.0, -1.0), "gaussian: expected sigma > 0"),
        (lambda: gaussian(0, NAN, 1.0), "gaussian: parameter mean must be a finite"),
    ],
)
def test_invalid_parameters_are_rejected(call, message):
    with pytest.raises(ValueError, match=message):
        call()


class TestMembershipDispatch:
    def test_shorthand_is_triangular(self):
        fn = MembershipFunction.model_validate([0, 20, 40])
        x = np.array([0, 10, 20, 30, 40])
        np.testing.assert_array_equal(membership(fn, x), triangular(x, 0, 20, 40))

    def test_trapezoidal(self):
        fn = MembershipFunction.model_validate(
            {"type": "trapezoidal", "parameters": [0, 0, 15, 25]}
        )
        np.testing.assert_allclose(membership(fn, [0, 20, 30]), [1, 0.5, 0])

    def test_gaussian(self):
        fn = MembershipFunction.model_validate({"type": "gaussian", "parameters": [1.5, 1.0]})
        np.testing.assert_allclose(membership(fn, [1.5, 2.5]), [1, math.exp(-0.5)])

    def test_unchecked_parameters_are_rejected(self):
        # model_construct skips the schema's checks; the function still refuses.
        fn = MembershipFunction.model_construct(type="gaussian", parameters=[0.0])
        with pytest.raises(ValueError, match="gaussian"):
            membership(fn, [0.0])
        fn = MembershipFunction.model_construct(type="triangular", parameters=[3.0, 2.0, 1.0])
        with pytest.raises(ValueError, match="triangular"):
            membership(fn, [0.0])
