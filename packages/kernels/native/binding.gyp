{
  # Built by scripts/build-native.mjs, which finds OpenBLAS and passes its header and library folders.
  "variables": {
    "blas_include_dir%": "/usr/include",
    "blas_library_dir%": "/usr/lib"
  },
  "targets": [
    {
      "target_name": "linewise_blas",
      "sources": ["linewise_blas.c"],
      "include_dirs": ["<(blas_include_dir)"],
      "cflags": [
        "-O3", "-std=gnu11", "-Wall", "-Wextra", "-fno-math-errno", "-fno-trapping-math",
        "-fno-signed-zeros", "-fassociative-math"
      ],
      "libraries": ["-L<(blas_library_dir)", "-Wl,-rpath,<(blas_library_dir)", "-lopenblas"]
    }
  ]
}
