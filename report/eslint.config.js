// eslint's flat config for the report (report/lint.sh runs it; CTest's report_lint): the
// browser modules of src/ and the node scripts that build the page, with eslint's recommended
// rules; any warning fails the test (--max-warnings 0).
"use strict";
const js = require("@eslint/js");
const globals = require("globals");

module.exports = [
  { ignores: ["node_modules/", "dist/"] },
  js.configs.recommended,
  {
    files: ["src/**/*.js"],
    languageOptions: { ecmaVersion: 2022, sourceType: "module", globals: globals.browser },
  },
  {
    files: ["bundle.js", "eslint.config.js"],
    languageOptions: { ecmaVersion: 2022, sourceType: "commonjs", globals: globals.node },
  },
];
