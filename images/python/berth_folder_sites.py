"""Adds the user site of every mounted storage folder to sys.path.

A package installed with ``PYTHONUSERBASE=/home/work/<folder>/.local pip
install --user <package>`` lives in the folder, so any later session that
mounts the folder finds it: this runs at every interpreter start (through
``berth-folder-sites.pth``), Jupyter's kernel included.
"""
import glob
import site
import sys

_version = "python%d.%d" % sys.version_info[:2]
for _path in sorted(glob.glob("/home/work/*/.local/lib/%s/site-packages" % _version)):
    site.addsitedir(_path)
