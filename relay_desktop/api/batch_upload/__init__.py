"""The batch upload engine shared by the CLI and the desktop: scan, validate, hash, lanes, resume.

Qt-free and thread-based. ``rows`` holds the value types, ``probe`` the local
validation, ``store`` the persisted queue, ``book`` the queue's shared state
(rows, drop order, tickets, change log) under one lock, ``scanning`` the folder
walk, probing and duplicate check, ``transfer`` one file's resumable upload,
``offline`` the wait for a lost server, ``lanes`` the upload threads, and
``engine`` the public façade (``UploadEngine``) over them.
"""
