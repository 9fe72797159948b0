-- What each person wants by e-mail (portal/services/notify.py): the language their mail is
-- written in, and the kinds of notification they turned off. Everything is on until turned
-- off; security mail (address confirmation, password reset) cannot be turned off.
CREATE TABLE portal_mail_settings (
    user_id     INTEGER PRIMARY KEY,
    lang        VARCHAR NOT NULL CHECK (lang IN ('ja', 'en')),
    updated_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE portal_mail_optouts (
    user_id  INTEGER NOT NULL,
    kind     VARCHAR NOT NULL,      -- e.g. 'facilities.booking_made'
    PRIMARY KEY (user_id, kind)
);
