-- The catalog schema as created by competencymap before schema versions (commit ca75328),
-- dumped from sqlite_master of a new database. tests/test_catalog_migration.py migrates it.
CREATE TABLE credentials (
	id INTEGER NOT NULL, 
	title VARCHAR(300) NOT NULL, 
	issuer VARCHAR(300) NOT NULL, 
	description TEXT NOT NULL, 
	duration_hours FLOAT NOT NULL, 
	delivery_mode VARCHAR(20) NOT NULL, 
	credit VARCHAR(20) NOT NULL, 
	assessment_type VARCHAR(300) NOT NULL, 
	stackability TEXT NOT NULL, 
	endorsing_partners JSON NOT NULL, 
	url VARCHAR(2000), 
	language VARCHAR(2) NOT NULL, 
	created_at DATETIME NOT NULL, 
	updated_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT ck_credentials_duration_positive CHECK (duration_hours > 0), 
	CONSTRAINT ck_credentials_delivery_mode CHECK (delivery_mode IN ('online', 'in_person', 'hybrid')), 
	CONSTRAINT ck_credentials_credit CHECK (credit IN ('credit', 'non_credit')), 
	CONSTRAINT ck_credentials_language CHECK (language IN ('en', 'fr'))
);

CREATE INDEX ix_credentials_issuer ON credentials (issuer);

CREATE TABLE postings (
	id INTEGER NOT NULL, 
	title VARCHAR(300) NOT NULL, 
	employer VARCHAR(300) NOT NULL, 
	text TEXT NOT NULL, 
	posted_on DATE, 
	location VARCHAR(300) NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id)
);

CREATE INDEX ix_postings_employer ON postings (employer);

CREATE TABLE outcomes (
	id INTEGER NOT NULL, 
	credential_id INTEGER NOT NULL, 
	position INTEGER NOT NULL, 
	text TEXT NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT ck_outcomes_position CHECK (position >= 1), 
	FOREIGN KEY(credential_id) REFERENCES credentials (id) ON DELETE CASCADE
);

CREATE INDEX ix_outcomes_credential_id ON outcomes (credential_id);

CREATE TABLE tags (
	id INTEGER NOT NULL, 
	credential_id INTEGER NOT NULL, 
	outcome_id INTEGER, 
	competency_iri VARCHAR(1000) NOT NULL, 
	framework VARCHAR(50) NOT NULL, 
	label VARCHAR(500) NOT NULL, 
	score FLOAT, 
	evidence JSON NOT NULL, 
	state VARCHAR(20) NOT NULL, 
	source VARCHAR(20) NOT NULL, 
	decided_by VARCHAR(200), 
	decided_at DATETIME, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_tags_outcome_competency UNIQUE (credential_id, outcome_id, competency_iri), 
	CONSTRAINT ck_tags_state CHECK (state IN ('suggested', 'accepted', 'rejected')), 
	CONSTRAINT ck_tags_source CHECK (source IN ('suggested', 'manual')), 
	FOREIGN KEY(credential_id) REFERENCES credentials (id) ON DELETE CASCADE, 
	FOREIGN KEY(outcome_id) REFERENCES outcomes (id) ON DELETE CASCADE
);

CREATE UNIQUE INDEX uq_tags_credential_level_competency ON tags (credential_id, competency_iri) WHERE outcome_id IS NULL;

CREATE INDEX ix_tags_outcome_id ON tags (outcome_id);

CREATE INDEX ix_tags_credential_state ON tags (credential_id, state);

