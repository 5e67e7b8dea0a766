/* SPDX-License-Identifier: Apache-2.0 */
#include "path-glob.h"

#include <stdlib.h>
#include <string.h>

typedef enum TokenKind {
        TOKEN_CHAR,  /* one literal character */
        TOKEN_ONE,   /* '?' */
        TOKEN_SET,   /* "[...]" */
        TOKEN_STAR,  /* '*': any run without '/' */
        TOKEN_STARS, /* '**': any run */
} TokenKind;

typedef struct Token {
        TokenKind kind;
        const char *set; /* TOKEN_SET: the pattern just after '[' */
        char c;
} Token;

/* Is c in the set starting after '['? A malformed set never gets here. */
static bool set_contains(const char *p, char c) {
        bool negate = false, match = false;

        if (*p == '!' || *p == '^') {
                negate = true;
                p++;
        }
        for (bool first = true; *p && (first || *p != ']'); first = false) {
                char lo = *p++, hi = lo;

                if (*p == '-' && p[1] && p[1] != ']') {
                        hi = p[1];
                        p += 2;
                }
                if (c >= lo && c <= hi)
                        match = true;
        }
        return match != negate && c != '/';
}

/* The end of a "[...]" starting at p, or NULL if unterminated (then '[' is
 * a literal). */
static const char *set_end(const char *p) {
        p++;
        if (*p == '!' || *p == '^')
                p++;
        if (*p == ']')
                p++;
        p = strchr(p, ']');
        return p ? p + 1 : NULL;
}

static size_t tokenize(const char *p, Token *tokens) {
        size_t n = 0;

        while (*p) {
                const char *end;

                if (p[0] == '*' && p[1] == '*') {
                        tokens[n++] = (Token) { .kind = TOKEN_STARS };
                        while (*p == '*')
                                p++;
                } else if (*p == '*') {
                        tokens[n++] = (Token) { .kind = TOKEN_STAR };
                        p++;
                } else if (*p == '?') {
                        tokens[n++] = (Token) { .kind = TOKEN_ONE };
                        p++;
                } else if (*p == '[' && (end = set_end(p))) {
                        tokens[n++] = (Token) { .kind = TOKEN_SET, .set = p + 1 };
                        p = end;
                } else
                        tokens[n++] = (Token) { .kind = TOKEN_CHAR, .c = *p++ };
        }
        return n;
}

static bool token_matches_char(const Token *t, char c) {
        switch (t->kind) {
        case TOKEN_CHAR:
                return t->c == c;
        case TOKEN_ONE:
                return c != '/';
        case TOKEN_SET:
                return set_contains(t->set, c);
        default:
                return false;
        }
}

bool path_glob_match(const char *pattern, const char *path) {
        /* Dynamic programming over (token, position): time is the product of
         * the two lengths whatever the pattern, so no pattern can make
         * matching explode the way naive backtracking does. */
        size_t np = strlen(pattern), ns = strlen(path), nt;
        Token *tokens;
        bool *row, *next, result;

        tokens = malloc((np + 1) * sizeof(Token));
        row = calloc(2 * (ns + 1), sizeof(bool));
        if (!tokens || !row) {
                free(tokens);
                free(row);
                return false;
        }
        next = row + ns + 1;
        nt = tokenize(pattern, tokens);

        /* row[j]: tokens[i..] match path[j..]; computed from the last token back. */
        row[ns] = true;
        for (size_t i = nt; i > 0; i--) {
                const Token *t = &tokens[i - 1];

                for (size_t j = ns + 1; j > 0; j--) {
                        size_t k = j - 1;
                        bool m;

                        if (t->kind == TOKEN_STAR)
                                m = row[k] || (k < ns && path[k] != '/' && next[k + 1]);
                        else if (t->kind == TOKEN_STARS)
                                m = row[k] || (k < ns && next[k + 1]);
                        else
                                m = k < ns && token_matches_char(t, path[k]) && row[k + 1];
                        next[k] = m;
                }
                /* next becomes the current row */
                {
                        bool *tmp = row;
                        row = next;
                        next = tmp;
                }
        }
        result = row[0];
        free(tokens);
        free(row < next ? row : next);
        return result;
}
