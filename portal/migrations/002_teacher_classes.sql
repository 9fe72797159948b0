-- Which classes a teacher teaches (homeroom and subject classes): a teacher sees the
-- learning records of these classes only. A class is named the way every module names
-- it: school, grade and class name (e.g. 3-2). Set by the city administrator or the
-- teacher's own school administrator (portal/services/teacher_classes.py).
CREATE TABLE portal_teacher_classes (
    user_id     INTEGER NOT NULL,
    school_id   INTEGER NOT NULL,
    grade       INTEGER NOT NULL CHECK (grade BETWEEN 1 AND 9),
    class_name  VARCHAR NOT NULL CHECK (length(class_name) BETWEEN 1 AND 20),
    PRIMARY KEY (user_id, school_id, grade, class_name)
);
