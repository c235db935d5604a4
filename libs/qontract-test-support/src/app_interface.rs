//! A temporary app-interface checkout (`data/`, `resources/`, the settings document with
//! `vault: false`) and a `config.toml` that runs it embedded with the workspace's GraphQL schema:
//! what an integration's end-to-end test drives its binary with.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// See the module documentation. Files are written relative to `data/`.
pub struct TestAppInterface {
    _tmp: tempfile::TempDir,
    data: PathBuf,
    config: PathBuf,
    bin: PathBuf,
}

fn write_file(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

impl TestAppInterface {
    /// An app-interface with only its settings document, run by `bin`; `config_tables` (TOML)
    /// follows the `[graphql]` table of the config (secrets of the config-file secret store,
    /// `[vault]`...).
    pub fn new(bin: impl Into<PathBuf>, config_tables: &str) -> Self {
        let tmp = tempfile::tempdir().expect("tempdir");
        let data = tmp.path().join("app-interface/data");
        std::fs::create_dir_all(tmp.path().join("app-interface/resources")).expect("resources");
        let schema = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../schemas/graphql-schema.yml")
            .canonicalize()
            .expect("schema");
        let config = tmp.path().join("config.toml");
        write_file(
            &config,
            &format!(
                "[graphql]\napp_interface = \"app-interface\"\nschema = {:?}\n\n{config_tables}",
                schema.display().to_string()
            ),
        );
        let app = Self {
            _tmp: tmp,
            data,
            config,
            bin: bin.into(),
        };
        app.write(
            "app-interface/app-interface-settings.yml",
            "---\n$schema: /app-interface/app-interface-settings-1.yml\n\n\
             name: app-interface-settings\ndescription: test settings\nvault: false\n",
        );
        app
    }

    /// Writes `data/<file>`.
    pub fn write(&self, file: &str, text: &str) {
        write_file(&self.data.join(file), text);
    }

    /// Replaces `from` (which must be there) by `to` in `data/<file>`.
    pub fn edit(&self, file: &str, from: &str, to: &str) {
        let path = self.data.join(file);
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(text.contains(from), "{file} does not contain {from:?}");
        std::fs::write(&path, text.replace(from, to)).expect("write");
    }

    /// Runs the binary with `--config <config.toml>` and `args`.
    pub fn run(&self, args: &[&str]) -> Output {
        Command::new(&self.bin)
            .arg("--config")
            .arg(&self.config)
            .args(args)
            .output()
            .expect("run the binary")
    }
}

/// Exit code, stdout and stderr of a run, for assertion messages.
pub fn output_text(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}
