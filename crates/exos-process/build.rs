//! Gives this crate's binaries and tests an rpath to DuckDB's C library, so they
//! run without `LD_LIBRARY_PATH`: first the folder of the binary itself (where
//! release packaging copies `libduckdb.so`), then `DUCKDB_LIB_DIR`.

fn main() {
    println!("cargo:rerun-if-env-changed=DUCKDB_LIB_DIR");
    println!("cargo:rustc-link-arg=-Wl,-rpath,$ORIGIN");
    if let Ok(dir) = std::env::var("DUCKDB_LIB_DIR") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
    }
}
