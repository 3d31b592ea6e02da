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

A file ending in .md is read as markdown and its blocks take the place of the
code block (a chapter's prose, a table the harness wrote):

    ```{include="01-gil/speedup-cpu.md"}
    ```

Paths are looked up in pandoc's resource path (--resource-path), so the same
book can include measurements from whichever build directory the Makefile
chooses. A missing file, a missing or repeated anchor, an anchor that never
ends: each stops the build with a message naming the file, rather than
leaving a silent hole in the book.
]]

local languages = {
  c = "c", h = "c", py = "python", sh = "bash", gp = "gnuplot", mk = "makefile",
  lua = "lua", md = "markdown",
}

local function fail(msg)
  io.stderr:write("include.lua: " .. msg .. "\n")
  os.exit(1)
end

local function find(path)
  local dirs = PANDOC_STATE.resource_path or { "." }
  for _, dir in ipairs(dirs) do
    local full = (dir == "." or path:sub(1, 1) == "/") and path or (dir .. "/" .. path)
    local f = io.open(full, "r")
    if f then
      return f, full
    end
  end
  fail(path .. ": no such file (looked in: " .. table.concat(dirs, ", ") .. ")")
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

local function excerpt(text, full, anchor)
  local lines, inside, found, ended = {}, false, 0, false
  local lineno = 0
  for line in (text .. "\n"):gmatch("(.-)\r?\n") do
    lineno = lineno + 1
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
  return lines
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

local include_block

local function include_markdown(path)
  local text = read(path)
  -- The book's own reader options: --default-image-extension among them.
  local doc = pandoc.read(text, "markdown", PANDOC_READER_OPTIONS)
  -- Included markdown may include files in turn.
  return pandoc.walk_block(pandoc.Div(doc.blocks), { CodeBlock = include_block }).content
end

include_block = function(block)
  local path = block.attributes.include
  if not path then
    return nil
  end
  if block.text:match("%S") then
    fail(path .. ": an include block must be empty; its text would be lost")
  end
  local anchor = block.attributes.anchor
  if path:match("%.md$") and not anchor then
    return include_markdown(path)
  end
  local text, full = read(path)
  local code = anchor and dedent(excerpt(text, full, anchor)) or dedent(whole(text))
  local classes = block.classes
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
  local label = pandoc.Para({ pandoc.Emph({ pandoc.Code(path) }) })
  label = pandoc.Div({ label }, pandoc.Attr("", { "source-label" }))
  return { label, pandoc.CodeBlock(code, pandoc.Attr(block.identifier, classes, attrs)) }
end

return { { CodeBlock = include_block } }
