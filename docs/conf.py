"""Sphinx configuration of fastbp's documentation.

Build it with ``python -m sphinx -W -b html docs docs/_build/html`` (the
``docs`` extra installs what it needs); the gallery's examples run at build
time.
"""

import os
import warnings
from pathlib import Path

import fastbp

ROOT = Path(__file__).resolve().parents[1]

project = "fastbp"
author = "the fastbp developers"
copyright = "the fastbp developers"
release = version = fastbp.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",  # the pages shared with the README, in Markdown
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
autosummary_generate = True
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
templates_path = ["_templates"]  # a class page: the class and its own methods
intersphinx_mapping = {}  # no network at build time: plain references only
exclude_patterns = ["_build"]

html_theme = "pydata_sphinx_theme"
html_title = "fastbp"
html_static_path = []
html_theme_options = {"navigation_with_keys": False}

sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "remove_config_comments": True,
    "matplotlib_animations": False,
    "image_scrapers": ("matplotlib",),
    "reset_modules": ("matplotlib",),
}

# The examples find the data sets beside the project (../shared/datasets),
# as the tests do, unless FASTBP_DATA_HOME points elsewhere; without them
# they fall back to scikit-learn's bundled data.
os.environ.setdefault("FASTBP_DOCS_SHARED", str(ROOT.parent / "shared" / "datasets"))
os.environ.setdefault("MPLBACKEND", "Agg")
# Examples train for a fixed number of epochs on purpose.
warnings.filterwarnings("ignore", message="Stochastic Optimizer: Maximum iterations")
