//! Gives this crate's binaries and tests an rpath to DuckDB's C library, so they
//! run without `LD_LIBRARY_PATH`: first the folder of the binary itself (where
//! release packaging copies `libduckdb.so`), then `DUCKDB_LIB_DIR`. Also warns
//! when the web pages are not built, since a release binary then serves none.

fn main() {
    println!("cargo:rerun-if-env-changed=DUCKDB_LIB_DIR");
    println!("cargo:rustc-link-arg=-Wl,-rpath,$ORIGIN");
    if let Ok(dir) = std::env::var("DUCKDB_LIB_DIR") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
    }
    let index = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web/dist/index.html");
    println!("cargo:rerun-if-changed={}", index.display());
    if !index.exists() {
        println!(
            "cargo:warning=web/dist is missing: the binary will serve no pages. \
             Build them first with `npm ci && npm run build` in web/ (scripts/serve.sh does)."
        );
    }
}
