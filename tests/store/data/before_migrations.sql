-- The schema the releases before migrations made (realvoice 0.1.0 through commit ebed858), as SQLite
-- printed it from that release's create_all; tests/store/test_migrations.py upgrades a folder made with it.
CREATE TABLE voices (
	id VARCHAR(32) NOT NULL, 
	user_id VARCHAR(64) NOT NULL, 
	name VARCHAR(100) NOT NULL, 
	description TEXT NOT NULL, 
	engine VARCHAR(32) NOT NULL, 
	engine_version VARCHAR(64) NOT NULL, 
	method VARCHAR(32) NOT NULL, 
	quality_score FLOAT NOT NULL, 
	quality_tier VARCHAR(32) NOT NULL, 
	fingerprint VARCHAR(64) NOT NULL, 
	embedding JSON NOT NULL, 
	characteristics JSON NOT NULL, 
	report JSON NOT NULL, 
	model_file VARCHAR(255) NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id)
);
CREATE INDEX ix_voices_fingerprint ON voices (fingerprint);
CREATE INDEX ix_voices_user_id ON voices (user_id);
CREATE TABLE jobs (
	id VARCHAR(32) NOT NULL, 
	user_id VARCHAR(64) NOT NULL, 
	kind VARCHAR(32) NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	progress FLOAT NOT NULL, 
	message TEXT NOT NULL, 
	result JSON, 
	created_at DATETIME NOT NULL, 
	updated_at DATETIME NOT NULL, 
	PRIMARY KEY (id)
);
CREATE INDEX ix_jobs_user_id ON jobs (user_id);
CREATE TABLE pronunciations (
	id INTEGER NOT NULL, 
	user_id VARCHAR(64) NOT NULL, 
	word VARCHAR(64) NOT NULL, 
	say_as VARCHAR(200) NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (user_id, word)
);
CREATE INDEX ix_pronunciations_user_id ON pronunciations (user_id);
CREATE TABLE api_keys (
	key_hash VARCHAR(64) NOT NULL, 
	user_id VARCHAR(64) NOT NULL, 
	hint VARCHAR(16) NOT NULL, 
	revoked BOOLEAN NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (key_hash)
);
CREATE INDEX ix_api_keys_user_id ON api_keys (user_id);
CREATE TABLE samples (
	id INTEGER NOT NULL, 
	voice_id VARCHAR(32) NOT NULL, 
	position INTEGER NOT NULL, 
	filename VARCHAR(255) NOT NULL, 
	accepted BOOLEAN NOT NULL, 
	original_file VARCHAR(255), 
	cleaned_file VARCHAR(255), 
	report JSON NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(voice_id) REFERENCES voices (id) ON DELETE CASCADE
);
CREATE INDEX ix_samples_voice_id ON samples (voice_id);
