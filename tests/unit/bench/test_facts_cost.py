"""Tests for the goal evaluation of bench/facts_cost.py."""
import facts_cost


def summary(median, cv=0.0):
    return {"median": median, "min": median, "max": median, "mean": median, "cv": cv, "n": 10}


def series(cold=1.5, warm=1.0, setup_min=1.0, score_cv=0.01, bw_cv=0.02):
    return {
        "hardware_facts_cold": {"wall_s": summary(cold), "score": summary(4.4, score_cv),
                                "bandwidth_gbps": summary(38.0, bw_cv)},
        "hardware_facts_warm": {"wall_s": summary(warm)},
        "setup_min": {"wall_s": summary(setup_min)},
    }


def test_all_goals_met():
    result = facts_cost.evaluate(series())
    assert result["cold_goal_met"] and result["warm_goal_met"]
    assert result["score_cv_goal_met"] and result["bandwidth_cv_goal_met"]
    assert result["warm_vs_setup_min"] == 1.0


def test_each_goal_can_fail_on_its_own():
    assert not facts_cost.evaluate(series(cold=2.01))["cold_goal_met"]
    slow_warm = facts_cost.evaluate(series(warm=1.25, setup_min=1.0))
    assert slow_warm["warm_vs_setup_min"] == 1.25 and not slow_warm["warm_goal_met"]
    assert not facts_cost.evaluate(series(score_cv=0.051))["score_cv_goal_met"]
    assert not facts_cost.evaluate(series(bw_cv=0.256))["bandwidth_cv_goal_met"]


def test_cold_row_takes_the_benchmark_figures():
    result = {"ansible_facts": {"voiceagent_hardware": {"benchmark": {
        "seconds": 0.5, "score": 4.3, "memory_bandwidth_gbps": 37.5, "cached": False}}}}
    expected = {"wall_s": 1.235, "module_s": 0.5, "score": 4.3, "bandwidth_gbps": 37.5, "cached": False}
    assert facts_cost.cold_row(1.23456, result) == expected
