-- Weekly usage per school and grade, kept beside the daily rows so the dashboard reads a
-- few hundred rows instead of the term's 600,000 (refreshed by every usage import).
CREATE TABLE school_ict_usage_weekly (
    week         DATE NOT NULL,
    school_id    INTEGER NOT NULL,
    grade        INTEGER NOT NULL,
    minutes      BIGINT NOT NULL,
    device_days  INTEGER NOT NULL CHECK (device_days > 0),
    PRIMARY KEY (week, school_id, grade)
);

INSERT INTO school_ict_usage_weekly
SELECT date_trunc('week', u.day)::DATE, d.school_id, p.grade, sum(u.active_minutes), count(*)
FROM school_ict_usage u JOIN school_ict_devices d ON d.id = u.device_id
JOIN school_ict_pupils p ON p.id = d.pupil_id
GROUP BY ALL;
