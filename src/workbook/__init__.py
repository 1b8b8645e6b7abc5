"""The Task Manager Workbook's command-line tool and grader."""
