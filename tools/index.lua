--[[
tools/index.lua - the book's index of C functions, generated (pandoc 2.17 Lua
filter, run after tools/include.lua and tools/number.lua):

    pandoc ... --lua-filter tools/include.lua --lua-filter tools/number.lua \
        --lua-filter tools/index.lua ...

It collects every inline code span that names a function, `name()`, with
the section it appears in (the nearest header with an id above it), and
fills the book's empty Div of class `c-function-index` (book.md puts it in
a chapter of its own at the end) with one entry a function, in
alphabetical order, linking to each section that names it: the section's
number (tools/number.lua's `secnum` attribute, which this filter removes)
or, for an unnumbered one, its title.

A name counts as a C function when this repository's C sources
(chapters/*/*.[ch] and harness/*.[ch], read from the directory pandoc
runs in, their comments and strings left out) call, declare or define it,
`name(`: the library calls the code makes (fork, waitpid, mmap, pthread_*,
curl_easy_*, sqlite3_*) and the exercises' own functions (gil_take...). A
Python function of the notes that the code never names (sorted(),
update()) is left out, and so is a C function the prose only mentions
(CPython's take_gil()). The index leaves out what it finds in
sections of class `no-index` (the glossary) and in the index itself.
Without the Div, or with no function found, the build stops with a message.
]]

package.path = "tools/?.lua;" .. package.path
local booklib = require("booklib")
local fail = booklib.failer("index.lua")

local has_class = booklib.has_class

-- C source without its comments, string literals and character constants
-- (a name in a comment or a message is not a call).
local function code_only(text)
  local out, i, n = {}, 1, #text
  while i <= n do
    local j = text:find("[/\"']", i)
    if not j then
      out[#out + 1] = text:sub(i)
      break
    end
    out[#out + 1] = text:sub(i, j - 1)
    local c, c2 = text:sub(j, j), text:sub(j, j + 1)
    if c2 == "/*" then
      local e = text:find("*/", j + 2, true)
      i = e and e + 2 or n + 1
      out[#out + 1] = " "
    elseif c2 == "//" then
      local e = text:find("\n", j + 2, true)
      i = e or n + 1
    elseif c == '"' or c == "'" then
      local k = j + 1
      while k <= n do
        local d = text:sub(k, k)
        if d == "\\" then
          k = k + 2
        elseif d == c or d == "\n" then
          break
        else
          k = k + 1
        end
      end
      i = k + 1
      out[#out + 1] = " "
    else
      out[#out + 1] = c
      i = j + 1
    end
  end
  return table.concat(out)
end

-- The names the repository's C code calls, declares or defines.
local function c_names()
  local names = {}
  local ls = io.popen("ls chapters/*/*.[ch] harness/*.[ch] 2>/dev/null")
  local nfiles = 0
  for path in ls:lines() do
    local f = io.open(path, "r")
    if f then
      nfiles = nfiles + 1
      local text = code_only(f:read("a"))
      f:close()
      for name in text:gmatch("([%a_][%w_]*)%s*%(") do
        names[name] = true
      end
    end
  end
  ls:close()
  if nfiles == 0 then
    fail("no C sources in chapters/*/ or harness/ (run pandoc from the repository's top directory)")
  end
  return names
end

-- name -> list of section ids, in order of first appearance; id -> link text.
local uses, order, section_text = {}, {}, {}

local function note_use(name, section)
  if not section then
    return
  end
  local u = uses[name]
  if not u then
    u = { seen = {} }
    uses[name] = u
    order[#order + 1] = name
  end
  if not u.seen[section] then
    u.seen[section] = true
    u[#u + 1] = section
  end
end

-- Walk the blocks in order; `section` is the id of the header above, nil
-- where nothing is indexed.
local function collect(blocks)
  local section
  local skip_level -- inside a no-index section of this level
  local scan
  local function inline_filter()
    return {
      Code = function(c)
        local name = c.text:match("^([%a_][%w_]*)%(%)$")
        if name then
          note_use(name, section)
        end
      end,
    }
  end
  scan = function(bs)
    for _, b in ipairs(bs) do
      if b.t == "Header" then
        if skip_level and b.level <= skip_level then
          skip_level = nil
        end
        if has_class(b, "no-index") then
          skip_level = b.level
        end
        if not skip_level and b.identifier ~= "" then
          section = b.identifier
          local num = b.attributes.secnum
          section_text[section] = num and { pandoc.Str(num) } or b.content
        end
        if not skip_level then
          pandoc.walk_block(b, inline_filter())
        end
      elseif b.t == "Div" then
        if not has_class(b, "c-function-index") then
          scan(b.content)
        end
      elseif not skip_level then
        pandoc.walk_block(b, inline_filter())
      end
    end
  end
  scan(blocks)
end

local function index_blocks(names)
  local found = {}
  for _, name in ipairs(order) do
    if names[name] then
      found[#found + 1] = name
    end
  end
  if #found == 0 then
    fail("no C function named in the book's inline code (`name()`)")
  end
  table.sort(found, function(a, b)
    local la, lb = a:lower():gsub("^_+", ""), b:lower():gsub("^_+", "")
    return la < lb or (la == lb and a < b)
  end)
  local items = {}
  for _, name in ipairs(found) do
    local inl = pandoc.List({ pandoc.Code(name .. "()"), pandoc.Str(":") })
    for i, id in ipairs(uses[name]) do
      inl:insert(pandoc.Space())
      inl:insert(pandoc.Link(section_text[id], "#" .. id))
      if i < #uses[name] then
        inl:insert(pandoc.Str(","))
      end
    end
    items[#items + 1] = { pandoc.Plain(inl) }
  end
  return { pandoc.BulletList(items) }, #found
end

return {
  {
    Pandoc = function(doc)
      local names = c_names()
      local done = false
      -- Divs nested in Divs are walked too, but there is one index.
      collect(doc.blocks)
      local blocks = pandoc.walk_block(pandoc.Div(doc.blocks), {
        Header = function(h)
          h.attributes.secnum = nil
          return h
        end,
        Div = function(div)
          if not has_class(div, "c-function-index") then
            return nil
          end
          if done then
            fail("book.md has two Divs of class c-function-index")
          end
          done = true
          div.content = index_blocks(names)
          return div
        end,
      }).content
      if not done then
        fail("the book has no Div of class c-function-index for the index of C functions")
      end
      return pandoc.Pandoc(blocks, doc.meta)
    end,
  },
}
