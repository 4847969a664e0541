"""Make the checkout importable as ``ansible_collections.voiceagent.models``.

Ansible only loads a collection from a path that ends in
``ansible_collections/<namespace>/<name>``. A symlink under ``.collections``
(git-ignored, also made by ``make``) gives the checkout that path without a copy.
"""
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
COLLECTIONS = ROOT / ".collections"
LINK = COLLECTIONS / "ansible_collections" / "voiceagent" / "models"

if not LINK.exists():
    LINK.parent.mkdir(parents=True, exist_ok=True)
    LINK.symlink_to("../../..")
if str(COLLECTIONS) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS))

FIXTURES = ROOT / "tests" / "fixtures"
