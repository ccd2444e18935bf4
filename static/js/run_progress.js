// Empty on purpose: the one progress bar is static/js/job_progress.js, which the bar's partial
// (templates/core/_job_progress.html) loads itself. Kept only while pages still name this file.
