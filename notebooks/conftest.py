"""nbval compares the notebooks' stored outputs, whose people are pseudonymised with the published key the
stored outputs were built with (notebooks/rebuild.py): the kernels nbval starts inherit it from here."""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from compliance.pseudonyms import KEY_ENV
from notebooks.rebuild import STORED_OUTPUTS_KEY

os.environ[KEY_ENV] = STORED_OUTPUTS_KEY
