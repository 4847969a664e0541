"""Tests for bench/fleet_scaling.py's result naming."""
import fleet_scaling


def test_full_grid_writes_the_committed_table():
    assert fleet_scaling.result_name([1, 5, 10, 20]) == "fleet_scaling"


def test_other_grids_get_their_own_file():
    assert fleet_scaling.result_name([1, 10]) == "fleet_scaling-1_10"
    assert fleet_scaling.result_name([20, 10, 5, 1]) == "fleet_scaling-20_10_5_1"
