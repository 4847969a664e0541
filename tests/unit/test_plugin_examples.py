# -*- coding: utf-8 -*-
# Copyright: (c) 2026, voiceagent.models contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every plugin's EXAMPLES is a list of tasks that uses the plugin by its FQCN with options it has.

Modules: EXAMPLES and DOCUMENTATION are read from the source (no import). Every task that calls one
of the collection's modules must use the FQCN and only documented options (or their aliases), and a
``module_defaults`` block may only name action groups of meta/runtime.yml with options that every
module of the group has. Filters: the sidecar ``plugins/filter/<name>.yml`` holds EXAMPLES as a YAML
string; it must be a task list that calls the filter as ``voiceagent.models.<name>``.
"""
import ast
import pathlib

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
MODULES = sorted((ROOT / "plugins" / "modules").glob("*.py"))
FILTER_DOCS = sorted((ROOT / "plugins" / "filter").glob("*.yml"))
PREFIX = "voiceagent.models."
BLOCK_KEYS = ("block", "rescue", "always")
# Task keywords that are not the action (enough for the examples; unknown keys fail the test).
TASK_KEYWORDS = {
    "name", "register", "when", "until", "retries", "delay", "loop", "loop_control", "vars", "tags",
    "become", "become_user", "check_mode", "changed_when", "failed_when", "ignore_errors", "no_log",
    "delegate_to", "run_once", "throttle", "notify", "environment", "module_defaults", "any_errors_fatal",
    "diff", "timeout",
} | set(BLOCK_KEYS)


def module_strings(path):
    """DOCUMENTATION and EXAMPLES of a module source file, without importing it."""
    found = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            if node.targets[0].id in ("DOCUMENTATION", "EXAMPLES") and isinstance(node.value, ast.Constant):
                found[node.targets[0].id] = node.value.value
    return found


def module_options(name):
    doc = yaml.safe_load(module_strings(ROOT / "plugins" / "modules" / (name + ".py"))["DOCUMENTATION"])
    names = set()
    for option, spec in (doc.get("options") or {}).items():
        names.add(option)
        names.update(spec.get("aliases") or [])
    return names


def action_groups():
    runtime = yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text(encoding="utf-8"))
    return runtime.get("action_groups") or {}


def walk(tasks):
    """Every task of a task list, blocks included (the block itself first)."""
    assert isinstance(tasks, list) and tasks, "EXAMPLES must be a non-empty list of tasks"
    for task in tasks:
        assert isinstance(task, dict), "each EXAMPLES entry must be a task (a mapping): %r" % (task,)
        yield task
        for key in BLOCK_KEYS:
            if key in task:
                yield from walk(task[key])


def action_of(task):
    if any(key in task for key in BLOCK_KEYS):
        return None
    actions = [key for key in task if key not in TASK_KEYWORDS]
    assert len(actions) == 1, "task %r must name exactly one action, got %r" % (task.get("name"), actions)
    return actions[0]


def check_module_defaults(task):
    groups = action_groups()
    for key, options in (task.get("module_defaults") or {}).items():
        if key.startswith("group/"):
            group = key[len("group/"):]
            assert group.startswith(PREFIX), "%s: name the group by FQCN (group/voiceagent.models.<group>)" % key
            members = groups.get(group[len(PREFIX):])
            assert members, "%s is not an action group of meta/runtime.yml" % key
        else:
            assert key.startswith(PREFIX), "module_defaults key %s: use the FQCN" % key
            members = [key[len(PREFIX):]]
        for member in members:
            unknown = set(options or {}) - module_options(member)
            assert not unknown, "module_defaults %s sets %s, which %s does not take" % (key, sorted(unknown), member)


@pytest.mark.parametrize("path", MODULES, ids=[p.stem for p in MODULES])
def test_module_examples_are_tasks_using_the_fqcn(path):
    name = path.stem
    strings = module_strings(path)
    assert "EXAMPLES" in strings, "%s has no EXAMPLES" % path.name
    tasks = yaml.safe_load(strings["EXAMPLES"])
    module_names = set(p.stem for p in MODULES)
    used = 0
    for task in walk(tasks):
        check_module_defaults(task)
        action = action_of(task)
        if action is None:
            continue
        assert action not in module_names, "task %r: call %s by its FQCN %s%s" % (
            task.get("name"), action, PREFIX, action)
        assert "." in action, "task %r: %s is not an FQCN" % (task.get("name"), action)
        assert task.get("name"), "every example task has a name (ansible-lint name[missing])"
        if action.startswith(PREFIX):
            args = task[action]
            assert args is None or isinstance(args, dict), "task %r: give the options as a mapping" % task.get("name")
            unknown = set(args or {}) - module_options(action[len(PREFIX):])
            assert not unknown, "task %r: %s has no option %s" % (task.get("name"), action, sorted(unknown))
        if action == PREFIX + name:
            used += 1
    assert used, "no task in %s's EXAMPLES calls %s%s" % (name, PREFIX, name)


@pytest.mark.parametrize("path", FILTER_DOCS, ids=[p.stem for p in FILTER_DOCS])
def test_filter_examples_are_tasks_using_the_fqcn(path):
    name = path.stem
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert set(("DOCUMENTATION", "EXAMPLES", "RETURN")) <= set(doc), "%s lacks a section" % path.name
    assert doc["DOCUMENTATION"]["name"] == name
    tasks = yaml.safe_load(doc["EXAMPLES"])
    uses = 0
    for task in walk(tasks):
        action = action_of(task)
        if action is None:
            continue
        assert "." in action, "task %r: %s is not an FQCN" % (task.get("name"), action)
        assert task.get("name"), "every example task has a name"
        text = yaml.safe_dump(task)
        assert "| %s " % name not in text and "|%s" % name not in text, "call the filter as %s%s" % (PREFIX, name)
        uses += text.count(PREFIX + name)
    assert uses, "no task in %s's EXAMPLES uses the filter %s%s" % (path.name, PREFIX, name)


def test_every_plugin_is_covered():
    assert set(p.stem for p in MODULES) == {"hardware_facts", "model_file", "model_plan", "env_file", "turn_check"}
    assert {"select_tier", "provision_plan", "fleet_report"} <= set(p.stem for p in FILTER_DOCS)


def test_action_groups_name_existing_modules():
    modules = set(p.stem for p in MODULES)
    for group, members in action_groups().items():
        for member in members:
            assert isinstance(member, str) and member in modules, "action group %s: no module %s" % (group, member)
