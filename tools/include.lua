--[[
tools/include.lua - the book's one include filter (pandoc 2.17 Lua filter).

A fenced code block with only attributes is replaced by a file, or by the part
of a file between two anchor lines:

    ```{.c include="solutions/01-gil/gil.c" anchor="take"}
    ```

Anchors are comment lines of their own in the source, `//DOC: take` and
`//DOC-END: take` in C, `# DOC: name` and `# DOC-END: name` in Python, shell,
gnuplot or make. All anchor lines inside the quoted part are dropped; the code
is dedented and its tabs expanded (8 columns, as the sources are written).

Each such listing becomes a Div of class `listing` holding a caption (a Div
of class `listing-caption`: the file's path and the anchor, if any) and the
code block, whose language class comes from the file's extension (.c and .h:
c, .py: python, ...) unless the block names one. The Div's id is the block's
own (`{#lst:name .c include=...}`) or else made from the include and anchor
attributes as written, `lst:` and their letters and digits joined by `-`
(`lst:solutions-01-gil-gil-c-take`), `-2`, `-3`... when the same excerpt is
included again. tools/number.lua numbers the listings per chapter and fills
in references to them.

A file ending in .md is read as markdown and its blocks take the place of the
code block (a chapter's prose, a table the harness wrote):

    ```{include="01-gil/speedup-cpu.md"}
    ```

Paths are looked up in pandoc's resource path (--resource-path), so the same
book can include measurements from whichever build directory the Makefile
chooses. A missing file, a missing or repeated anchor, an anchor that never
ends: each stops the build with a message naming the file, rather than
leaving a silent hole in the book.

Two editions come from the same sources, chosen with pandoc's metadata
(`-M edition=student`, the default, or `-M edition=instructor`):

- The instructor edition is everything.
- The student edition leaves out the reference solutions. A section whose
  header id ends in `-solution` (a chapter's `{#sec:CH-solution}` solution
  walkthrough) is removed with its subsections; a link into a removed
  section keeps its text and gains a footnote saying that the section is in
  the instructor edition. An include of `solutions/CH/FILE` never reads
  solutions/ (a student's repository has none): it takes the same anchor
  from the skeleton, `chapters/CH/FILE`, when the skeleton has it and the
  excerpt holds no exercise region (given code, the same in both), and is
  otherwise replaced by a note that the listing is in the instructor
  edition (a Div of class `instructor-note` with the listing's id, so that
  a link to the listing still lands on it).
- In either edition, a block or span with the class `instructor` (or
  `student`) is only in that edition; it is dropped from the other before
  anything in it is included, so an instructor-only include (the generated
  appendices, tools/instructor-notes) need not exist for a student build.
]]

local languages = {
  c = "c", h = "c", py = "python", sh = "bash", gp = "gnuplot", mk = "makefile",
  lua = "lua", md = "markdown",
}

package.path = "tools/?.lua;" .. package.path
local booklib = require("booklib")
local fail = booklib.failer("include.lua")

-- "student" or "instructor": set from the document's metadata before any
-- block is included.
local edition = "student"

local function lookup(path)
  local dirs = PANDOC_STATE.resource_path or { "." }
  for _, dir in ipairs(dirs) do
    local full = (dir == "." or path:sub(1, 1) == "/") and path or (dir .. "/" .. path)
    local f = io.open(full, "r")
    if f then
      return f, full
    end
  end
  return nil, dirs
end

local function find(path)
  local f, full = lookup(path)
  if f then
    return f, full
  end
  fail(path .. ": no such file (looked in: " .. table.concat(full, ", ") .. ")")
end

local function read(path)
  local f, full = find(path)
  local text = f:read("a")
  f:close()
  return text, full
end

-- A line that is nothing but an anchor: returns "begin"/"end" and the name.
local function anchor_of(line)
  local kind, name = line:match("^%s*[/#%*%-;]+%s*DOC(%-?E?N?D?):%s*([%w_%-]+)%s*%*?/?%s*$")
  if not kind then
    return nil
  end
  if kind == "" then
    return "begin", name
  elseif kind == "-END" then
    return "end", name
  end
  return nil
end

local function expand_tabs(line)
  local out, col = {}, 0
  for ch in line:gmatch(".") do
    if ch == "\t" then
      local n = 8 - col % 8
      out[#out + 1] = string.rep(" ", n)
      col = col + n
    else
      out[#out + 1] = ch
      col = col + 1
    end
  end
  return table.concat(out)
end

-- The lines of the excerpt, and whether any of them is an exercise region's
-- line (its BEGIN or END EXERCISE line, or a line between them).
local function excerpt(text, full, anchor)
  local lines, inside, found, ended = {}, false, 0, false
  local lineno, in_region, touches_region = 0, false, false
  for line in (text .. "\n"):gmatch("(.-)\r?\n") do
    lineno = lineno + 1
    local marker = line:match("/%*%s*BEGIN EXERCISE ") and "begin" or line:match("/%*%s*END EXERCISE ") and "end"
    if inside and (marker or in_region) then
      touches_region = true
    end
    if marker == "begin" then
      in_region = true
    elseif marker == "end" then
      in_region = false
    end
    local kind, name = anchor_of(line)
    if kind == "begin" and name == anchor then
      found = found + 1
      if found > 1 then
        fail(full .. ":" .. lineno .. ": anchor '" .. anchor .. "' begins twice")
      end
      inside = true
    elseif kind == "end" and name == anchor then
      if not inside then
        fail(full .. ":" .. lineno .. ": anchor '" .. anchor .. "' ends before it begins")
      end
      inside, ended = false, true
    elseif inside and not kind then
      lines[#lines + 1] = expand_tabs(line)
    end
  end
  if found == 0 then
    fail(full .. ": no anchor '" .. anchor .. "' (a line '//DOC: " .. anchor .. "' or '# DOC: " .. anchor .. "')")
  end
  if not ended then
    fail(full .. ": anchor '" .. anchor .. "' has no DOC-END line")
  end
  return lines, touches_region
end

local function whole(text)
  local lines = {}
  for line in (text .. "\n"):gmatch("(.-)\r?\n") do
    if not anchor_of(line) then
      lines[#lines + 1] = expand_tabs(line)
    end
  end
  while #lines > 0 and lines[#lines] == "" do
    lines[#lines] = nil
  end
  return lines
end

local function dedent(lines)
  local indent
  for _, l in ipairs(lines) do
    if l:match("%S") then
      local lead = #l:match("^ *")
      indent = indent and math.min(indent, lead) or lead
    end
  end
  for i, l in ipairs(lines) do
    lines[i] = l:sub((indent or 0) + 1)
  end
  return table.concat(lines, "\n")
end

-- The class that keeps a block or span out of this edition.
local function other_edition()
  return edition == "student" and "instructor" or "student"
end

local has_class = booklib.has_class

-- Drop what belongs to the other edition, before anything in it is read.
local function drop_other(el)
  if has_class(el, other_edition()) then
    return {}
  end
  return nil
end
local prune_filter = { Div = drop_other, CodeBlock = drop_other, Span = drop_other }

local include_block

local function include_markdown(path)
  local text = read(path)
  -- The book's own reader options: --default-image-extension among them.
  local doc = pandoc.read(text, "markdown", PANDOC_READER_OPTIONS)
  local div = pandoc.walk_block(pandoc.Div(doc.blocks), prune_filter)
  -- Included markdown may include files in turn.
  return pandoc.walk_block(div, { CodeBlock = include_block }).content
end

-- In the student edition, what stands for an include of solutions/CH/FILE:
-- the skeleton's copy of the same excerpt when it is given code, or a note.
local function student_include(block, path, anchor)
  local skeleton = "chapters/" .. path:sub(#"solutions/" + 1)
  local f, full = lookup(skeleton)
  if f and anchor then
    local text = f:read("a")
    f:close()
    local has_anchor = false
    for line in (text .. "\n"):gmatch("(.-)\r?\n") do
      local kind, name = anchor_of(line)
      if kind == "begin" and name == anchor then
        has_anchor = true
      end
    end
    if has_anchor then
      local lines, in_region = excerpt(text, full, anchor)
      if not in_region then
        return skeleton, dedent(lines)
      end
    end
  elseif f then
    f:close()
  end
  return nil
end

-- Markdown text as inlines.
local function inlines(text)
  return pandoc.read(text, "markdown").blocks[1].content
end

local function instructor_note(what, id)
  return pandoc.Div({ pandoc.Para({ pandoc.Emph(inlines(what)) }) },
    pandoc.Attr(id or "", { "instructor-note" }))
end

-- A listing's id: its own, or one made from the include as written (the
-- same in both editions), unique in the book.
local listing_ids = {}
local function listing_id(block, path, anchor)
  local id = block.identifier
  if id == "" then
    id = "lst:" .. (path .. (anchor and ("-" .. anchor) or "")):gsub("[^%w]+", "-")
  end
  local n = (listing_ids[id] or 0) + 1
  listing_ids[id] = n
  return n == 1 and id or (id .. "-" .. n)
end

include_block = function(block)
  local path = block.attributes.include
  if not path then
    return nil
  end
  if has_class(block, other_edition()) then
    return {}
  end
  if block.text:match("%S") then
    fail(path .. ": an include block must be empty; its text would be lost")
  end
  local anchor = block.attributes.anchor
  if path:match("%.md$") and not anchor then
    return include_markdown(path)
  end
  local id = listing_id(block, path, anchor)
  local code
  if edition == "student" and path:match("^solutions/") then
    local skeleton
    skeleton, code = student_include(block, path, anchor)
    if not skeleton then
      return instructor_note("This listing is from the reference solution, which only the instructor edition of this book shows.", id)
    end
    path = skeleton
  else
    local text, full = read(path)
    code = anchor and dedent((excerpt(text, full, anchor))) or dedent(whole(text))
  end
  local classes = {}
  for _, c in ipairs(block.classes) do
    if c ~= "instructor" and c ~= "student" then
      classes[#classes + 1] = c
    end
  end
  if #classes == 0 then
    local ext = path:match("%.([%w]+)$")
    classes = { languages[ext] or "default" }
  end
  local attrs = {}
  for k, v in pairs(block.attributes) do
    if k ~= "include" and k ~= "anchor" then
      attrs[k] = v
    end
  end
  local caption = { pandoc.Code(path) }
  if anchor then
    caption[#caption + 1] = pandoc.Str(",")
    caption[#caption + 1] = pandoc.Space()
    caption[#caption + 1] = pandoc.Str("anchor")
    caption[#caption + 1] = pandoc.Space()
    caption[#caption + 1] = pandoc.Code(anchor)
  end
  caption = pandoc.Div({ pandoc.Para(caption) }, pandoc.Attr("", { "listing-caption" }))
  return pandoc.Div({ caption, pandoc.CodeBlock(code, pandoc.Attr("", classes, attrs)) },
    pandoc.Attr(id, { "listing" }, { { "source", path }, { "anchor", anchor or "" } }))
end

-- The student edition: a section whose header id ends in "-solution" goes,
-- with every block up to the next header of its level or above. The ids of
-- everything removed are collected in `removed`.
local function is_solution(block)
  return block.t == "Header" and block.identifier:match("%-solution$") ~= nil
end

local function collect_ids(blocks, removed)
  local function note(el)
    if el.identifier and el.identifier ~= "" then
      removed[el.identifier] = true
    end
  end
  pandoc.walk_block(pandoc.Div(blocks), { Header = note, Div = note, Span = note, CodeBlock = note, Table = note })
end

local function drop_solutions(blocks, removed)
  local out, level, cut = {}, nil, {}
  for _, b in ipairs(blocks) do
    if level and b.t == "Header" and b.level <= level then
      level = nil
    end
    if not level and is_solution(b) then
      level = b.level
    end
    if level then
      cut[#cut + 1] = b
    else
      if b.t == "Div" then
        b.content = drop_solutions(b.content, removed)
      end
      out[#out + 1] = b
    end
  end
  collect_ids(cut, removed)
  return out
end

-- A link into a removed section keeps its text and says where the section is.
local function relink(removed)
  return {
    Link = function(link)
      local id = link.target:match("^#(.+)$")
      if not id or not removed[id] then
        return nil
      end
      local note = pandoc.Note({ pandoc.Para(inlines(
        "The solution walkthroughs, with the reference solutions, are in the instructor edition of this book.")) })
      local out = pandoc.List(link.content)
      out:insert(note)
      return out
    end,
  }
end

return {
  {
    Pandoc = function(doc)
      local e = doc.meta.edition and pandoc.utils.stringify(doc.meta.edition) or "student"
      if e ~= "student" and e ~= "instructor" then
        fail("edition '" .. e .. "': choose edition=student or edition=instructor")
      end
      edition = e
      local div = pandoc.walk_block(pandoc.Div(doc.blocks), prune_filter)
      div = pandoc.walk_block(div, { CodeBlock = include_block })
      local blocks = div.content
      if edition == "student" then
        local removed = {}
        blocks = drop_solutions(blocks, removed)
        blocks = pandoc.walk_block(pandoc.Div(blocks), relink(removed)).content
      end
      return pandoc.Pandoc(blocks, doc.meta)
    end,
  },
}
