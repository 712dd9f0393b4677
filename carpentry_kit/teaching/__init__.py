"""Teaching: workshop readiness (doctor), nbgrader exercise generation and isolated autograding, the curriculum."""
