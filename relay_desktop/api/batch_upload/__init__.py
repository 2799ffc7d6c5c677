"""The batch upload engine shared by the CLI and the desktop: scan, validate, hash, lanes, resume.

Qt-free and thread-based. ``rows`` holds the value types, ``probe`` the local
validation, ``store`` the persisted queue, ``engine`` the lanes.
"""
