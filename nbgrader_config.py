"""nbgrader configuration of the carpentry-kit course (run nbgrader from the repository root).

Layout: ``solutions/<assignment>/`` holds the source notebooks (with solutions and hidden tests),
``exercises/<assignment>/`` the released student versions (generated, committed: regenerate with
``carpentry grade --generate``). Everything an instructor collects or produces while grading
(``submitted/``, ``autograded/``, ``feedback/``, ``gradebook.db``, ``.exchange/``) is git-ignored.

Environment variables:

* ``CARPENTRY_GRADEBOOK_URL`` — the gradebook database (SQLAlchemy URL). Default: ``gradebook.db`` here
  (SQLite). For a large class on a JupyterHub use PostgreSQL, e.g.
  ``postgresql://grader:PASSWORD@db.example.org/carpentry_kit``.
* ``CARPENTRY_EXCHANGE`` — the nbgrader exchange directory used by ``release_assignment``, ``fetch``,
  ``submit`` and ``collect``. Default: ``.exchange/`` here, which works on one machine; on a JupyterHub use a
  directory every user can reach, e.g. ``/srv/nbgrader/exchange``.
"""

import os

c = get_config()  # noqa: F821  (provided by nbgrader when it loads this file)

COURSE_ROOT = os.path.dirname(os.path.abspath(__file__))

c.CourseDirectory.course_id = "carpentry-kit"
c.CourseDirectory.root = COURSE_ROOT
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
c.CourseDirectory.db_url = os.environ.get(
    "CARPENTRY_GRADEBOOK_URL", "sqlite:///" + os.path.join(COURSE_ROOT, "gradebook.db")
)

c.Exchange.root = os.environ.get("CARPENTRY_EXCHANGE", os.path.join(COURSE_ROOT, ".exchange"))
c.Exchange.path_includes_course = True

# Benchmark cells are sized to run in a few seconds; a cell that takes longer than this is interrupted
# and counted as failed, so a learner's infinite loop cannot stall grading.
c.ExecutePreprocessor.timeout = 90
c.ExecutePreprocessor.interrupt_on_timeout = True
c.Execute.timeout = 90
c.Execute.interrupt_on_timeout = True

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# The rubrics of the written answers are "### BEGIN MARK SCHEME" regions in the locked question cells: the
# gradebook keeps them, so graders see them in formgrader, and generate_assignment removes them from the
# learners' copy. nbgrader would only allow them in "manually graded task" cells, which carry points of
# their own; the questions here are plain locked cells (the points are on the answer cells).
c.ClearMarkScheme.enforce_metadata = False
